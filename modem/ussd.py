"""USSD (``AT+CUSD``): the request a modem wants, the ``+CUSD`` answer, the balance in it.

Dialects (MODEMS.md): Huawei firmware takes the request as packed GSM-7 in hex and answers
the same way (``style="gsm7hex"``); SIMCom/Quectel take and answer text in the ``AT+CSCS``
character set (``style="text"``; UCS2 hex when the answer's DCS says UCS2 or CSCS is UCS2).
The answer is a ``+CUSD: <m>[,"<text>",<dcs>]`` line that comes before or after the ``OK``;
``m`` 0 done, 1 more expected, 2 ended by the network, 4 not supported, 5 timed out.

:func:`ask` runs it on an open :class:`~modem.modem.Modem` (anything with ``command`` and the
``ussd_answers`` queue its reader fills); the driver itself never loads this module or the codec.

Text from the network is hostile: :attr:`UssdAnswer.text` has control characters replaced,
and the amount is parsed leniently (the whole text is kept next to it).
"""

from __future__ import annotations

import contextlib
import queue
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Protocol

from modem.errors import AtError, UssdError
from modem.pdu import gsm7
from modem.status import Commander, reply_fields, split_fields

__all__ = [
    "UssdAnswer",
    "UssdPort",
    "ask",
    "decode_answer",
    "encode_request",
    "parse_amount",
    "parse_cusd",
    "run_ussd",
    "style_for",
]

_CODE = re.compile(r"[0-9*#+]{1,32}")
_HEX = re.compile(r"(?:[0-9A-Fa-f]{2})+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
_SYMBOLS = {"£": "GBP", "€": "EUR", "$": "USD", "₹": "INR", "¥": "JPY", "₦": "NGN"}
_AMOUNT = re.compile(
    r"(?P<pre>[£€$₹¥₦]|\b[A-Z]{3}\b|\bRs\.?)?\s*(?P<num>-?\d{1,9}(?:[.,]\d{1,3})?)\s*"
    r"(?P<post>[£€$₹¥₦]|\b[A-Z]{3}\b|\bRs\.?)?"
)
_ENDED = {2: "the network ended the USSD session", 4: "USSD not supported by the network",
          5: "the USSD request timed out in the network"}  # fmt: skip


@dataclass(frozen=True)
class UssdAnswer:
    """The network's answer: its text (cleaned), amount and currency when found."""

    mode: int
    text: str
    amount: Decimal | None
    currency: str | None


def style_for(manufacturer: str | None) -> str:
    """``gsm7hex`` for Huawei firmware, ``text`` for everyone else."""
    return "gsm7hex" if (manufacturer or "").strip().lower().startswith("huawei") else "text"


def encode_request(code: str, style: str) -> str:
    """The ``<str>`` of ``AT+CUSD=1,"<str>",15``; ValueError for anything but ``*#+`` digits."""
    if not _CODE.fullmatch(code):
        raise ValueError(f"a USSD code is digits, * and # only: {code!r}")
    if style == "gsm7hex":
        return gsm7.pack(gsm7.encode(code)).hex().upper()
    return code


def decode_answer(text: str, dcs: int | None, style: str, *, ucs2: bool = False) -> str:
    """The answer's text: packed GSM-7 hex (Huawei), UCS2 hex, or as it came."""
    group_ucs2 = dcs is not None and (dcs & 0xCC == 0x48 or dcs == 0x11)
    if (group_ucs2 or ucs2) and _HEX.fullmatch(text) and len(text) % 4 == 0:
        return bytes.fromhex(text).decode("utf-16-be", errors="replace")
    if style == "gsm7hex" and _HEX.fullmatch(text):
        octets = bytes.fromhex(text)
        count = len(octets) * 8 // 7
        septets = gsm7.unpack(octets, count)
        if count % 8 == 0 and septets.endswith(b"\r"):
            septets = septets[:-1]  # TS 23.038 §6.1.2.3.1: CR pads 7 spare bits
        return gsm7.decode(septets.rstrip(b"\x00") if count % 8 == 0 else septets)
    return text


def parse_amount(text: str) -> tuple[Decimal | None, str | None]:
    """The first number next to a currency (else the first number) and that currency."""
    first: tuple[Decimal | None, str | None] = (None, None)
    for match in _AMOUNT.finditer(text):
        try:
            value = Decimal(match.group("num").replace(",", "."))
        except InvalidOperation:
            continue
        unit = match.group("pre") or match.group("post")
        if unit:
            unit = _SYMBOLS.get(unit, "INR" if unit.startswith("Rs") else unit)
            return value, unit
        if first[0] is None:
            first = (value, None)
    return first


def parse_cusd(line: str) -> tuple[int, str | None, int | None]:
    """``+CUSD: 0,"text",15`` -> ``(0, "text", 15)``; UssdError if it is not one."""
    head, _, rest = line.partition(":")
    if head.strip().upper() != "+CUSD":
        raise UssdError(f"not a +CUSD answer: {line[:40]!r}")
    fields = split_fields(rest.strip())
    if not fields or not fields[0].isdigit():
        raise UssdError("unreadable +CUSD answer")
    text = fields[1] if len(fields) >= 2 else None
    dcs = int(fields[2]) if len(fields) >= 3 and fields[2].isdigit() else None
    return int(fields[0]), text, dcs


def run_ussd(
    command: Commander,
    next_cusd: Callable[[float], str | None],
    code: str,
    *,
    style: str,
    ucs2: bool = False,
    timeout: float = 20.0,
) -> UssdAnswer:
    """Send ``code``, wait for the ``+CUSD`` answer, close a session left open (``m`` 1)."""
    request = encode_request(code, style)
    try:
        lines = command(f'AT+CUSD=1,"{request}",15', timeout=timeout)
    except AtError as exc:
        raise UssdError(f"the modem refused the USSD request: {exc.text}") from exc
    line = next((x for x in lines if x.upper().startswith("+CUSD:")), None)
    if line is None:
        line = next_cusd(timeout)  # most modems answer with a URC after the OK
    if line is None:
        raise UssdError(f"no answer to {code} within {timeout:.0f} s")
    mode, text, dcs = parse_cusd(line)
    if mode == 1:
        with contextlib.suppress(AtError):
            command("AT+CUSD=2")  # a menu waits for input: end the session
    if mode in _ENDED or text is None:
        raise UssdError(_ENDED.get(mode, f"+CUSD: {mode} without text"))
    clean = _CONTROL.sub(" ", decode_answer(text, dcs, style, ucs2=ucs2)).strip()
    if not clean:
        raise UssdError("empty USSD answer")
    amount, currency = parse_amount(clean)
    return UssdAnswer(mode, clean, amount, currency)


class UssdPort(Protocol):
    """What :func:`ask` needs of a modem (:class:`modem.modem.Modem` has both)."""

    ussd_answers: queue.SimpleQueue[str]

    def command(self, cmd: str, timeout: float | None = None) -> list[str]:
        """Run an AT command, return its Info lines."""
        ...


def ask(
    port: UssdPort, code: str, *, style: str | None = None, timeout: float = 20.0
) -> UssdAnswer:
    """Ask the network ``code`` (``*100#``) in the modem's dialect; UssdError if no answer."""
    if style is None:
        lines = port.command("AT+CGMI")
        style = style_for(lines[0] if lines else None)
    try:
        cscs = reply_fields(port.command("AT+CSCS?"), "+CSCS")
    except AtError:
        cscs = None
    answers = port.ussd_answers
    while not answers.empty():
        answers.get_nowait()  # an answer nobody waited for

    def next_cusd(wait: float) -> str | None:
        try:
            return answers.get(timeout=wait)
        except queue.Empty:
            return None

    ucs2 = cscs is not None and bool(cscs) and cscs[0].upper() == "UCS2"
    return run_ussd(port.command, next_cusd, code, style=style, ucs2=ucs2, timeout=timeout)
