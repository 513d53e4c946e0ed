"""USSD in the simulated modem: ``AT+CUSD=1,"<str>",<dcs>`` answered later by ``+CUSD``.

Huawei-style profiles (``ussd_style="gsm7hex"``) take the request as packed GSM-7 hex and
answer the same way; the others take text and answer text (UCS2 hex under ``AT+CSCS="UCS2"``).
The answer comes as a URC shortly after the ``OK``. :attr:`SimUssd.answers` maps codes to
answers; the ``ussd`` fault changes them (``mode=4``: not supported; ``mode=None``: silence).
"""

from __future__ import annotations

from collections.abc import Callable

from modem.pdu import gsm7
from modem.sim.commands import AtEngine, Reply
from modem.sim.port import PtyPort
from modem.status import split_fields

__all__ = ["BALANCE_TEXT", "SimUssd"]

BALANCE_TEXT = "Your balance is GBP 12.34. Top up at the shop."


class SimUssd:
    """Answers USSD requests after a short delay, in the profile's dialect."""

    def __init__(
        self, engine: AtEngine, port: PtyPort, emit_urc: Callable[[str, bytes], None]
    ) -> None:
        self.engine, self.port, self.emit_urc = engine, port, emit_urc
        self.answers: dict[str, str] = {"*100#": BALANCE_TEXT}
        self.mode: int | None = 0  # the <m> of the answer; None: the network never answers
        self.delay = 0.05
        self.requests: list[str] = []

    def set_answer(
        self, code: str = "*100#", text: str | None = None, mode: int | None = 0
    ) -> None:
        """The ``ussd`` fault: what ``code`` gets next (text, ``mode`` 4 / 2, None: silence)."""
        if text is not None:
            self.answers[code] = text
        self.mode = mode

    def request(self, args: str) -> Reply:
        """``AT+CUSD=<n>[,"<str>"[,<dcs>]]``."""
        fields = split_fields(args)
        if not fields or fields[0] not in ("0", "1", "2"):
            return Reply(final="ERROR" if not fields or fields[0] != "?" else "OK")
        if len(fields) < 2 or fields[0] == "2":
            return Reply()
        hexed = self.engine.profile.ussd_style == "gsm7hex"
        code = self._decode(fields[1]) if hexed else fields[1]
        if code is None:
            return Reply(final=self.engine.cme(100))
        self.requests.append(code)
        if self.mode is not None:
            self.port.call_later(self.delay, lambda: self._answer(code))
        return Reply()

    def _decode(self, text: str) -> str | None:
        try:
            octets = bytes.fromhex(text)
        except ValueError:
            return None
        return gsm7.decode(gsm7.unpack(octets, len(octets) * 8 // 7)).rstrip("@\r")

    def _answer(self, code: str) -> None:
        mode = self.mode if self.mode is not None else 0
        text = self.answers.get(code)
        if text is None or mode in (2, 4):
            line = f"+CUSD: {4 if text is None else mode}"
        elif self.engine.profile.ussd_style == "gsm7hex":
            line = f'+CUSD: {mode},"{gsm7.pack(gsm7.encode(text)).hex().upper()}",15'
        elif self.engine.cscs == "UCS2":
            line = f'+CUSD: {mode},"{text.encode("utf-16-be").hex().upper()}",72'
        else:
            line = f'+CUSD: {mode},"{text}",15'
        self.emit_urc("+CUSD", f"\r\n{line}\r\n".encode())
