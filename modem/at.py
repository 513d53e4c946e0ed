"""Sans-IO AT command parser: ``feed(bytes)`` then ``next_event()`` until ``NEED_DATA``.

The parser does no I/O and reads no clock. It knows which command is pending (``begin``), so
a ``+CMGS:`` line is that command's ``Info`` while ``+CMTI:`` is a ``Urc`` even in the middle
of a reply. Lines are parsed lazily, one per ``next_event`` call, so ``begin``/``end`` take
effect exactly between lines and the same byte stream cut at any points gives the same events.

Events::

    Info(line)                       a line of the pending command's reply
    Final(ok, kind, code, text)      OK / ERROR / +CMS ERROR / +CME ERROR / ...; ends the command
    Urc(name, line, pdu)             unsolicited line; +CMT/+CDS carry the following PDU line
    Prompt()                         the ``> `` of AT+CMGS / AT+CMGW (no line ending)
    Garbage(data, reason)            control characters or an over-long line; parser resyncs
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from typing import Final as TypingFinal

__all__ = [
    "MAX_LINE",
    "NEED_DATA",
    "AtParser",
    "Event",
    "Final",
    "Garbage",
    "Info",
    "NeedData",
    "Prompt",
    "Urc",
    "command_prefix",
]

MAX_LINE: TypingFinal = 4096
"""Longest line kept; longer ones become ``Garbage`` (a stuck port can stream noise forever)."""


@dataclass(frozen=True)
class Info:
    """A line of the pending command's reply (the ``+XXX:`` line or a bare text/PDU line)."""

    line: str


@dataclass(frozen=True)
class Final:
    """A final result code; ``kind`` is "OK", "ERROR", "CMS", "CME", "NO CARRIER", ..."""

    ok: bool
    kind: str
    code: int | None
    text: str


@dataclass(frozen=True)
class Urc:
    """An unsolicited line; ``name`` is its prefix ("+CMTI", "RING") or "?" if unknown."""

    name: str
    line: str
    pdu: str | None = None


@dataclass(frozen=True)
class Prompt:
    """The ``> `` prompt asking for the PDU of AT+CMGS / AT+CMGW."""


@dataclass(frozen=True)
class Garbage:
    """Bytes that are not a usable line: control characters, or longer than ``MAX_LINE``."""

    data: bytes
    reason: str


class NeedData:
    """Type of the ``NEED_DATA`` sentinel: feed more bytes."""

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA: TypingFinal = NeedData()
"""Returned by ``next_event`` when no complete event is buffered."""

Event = Info | Final | Urc | Prompt | Garbage

# Prefixed lines that are unsolicited whenever they do not answer the pending command.
_URC_PREFIXES = frozenset(
    {
        "+CMTI", "+CMT", "+CDS", "+CDSI", "+CBM", "+CPIN", "+CREG", "+CGREG", "+CEREG",
        "+CIEV", "+CRING", "+CLIP", "+CUSD", "+QIND", "+QUSIM", "^RSSI", "^BOOT", "^MODE",
        "^SRVST", "^SIMST", "^HCSQ", "^RFSWITCH", "^SYSSTART",
    }
)  # fmt: skip
# Bare lines that are always unsolicited (never a reply to anything we send).
_URC_WORDS = frozenset(
    {"RING", "RDY", "CALL READY", "SMS READY", "PB DONE", "NORMAL POWER DOWN", "+PBREADY"}
)
# Final result codes of ATD only; otherwise (a dropped data call) they are unsolicited.
_DIAL_FINALS = frozenset({"NO CARRIER", "BUSY", "NO ANSWER", "NO DIALTONE"})
# Headers whose next line is a PDU belonging to the same reply or URC.
_PDU_INFO = frozenset({"+CMGL", "+CMGR"})
_PDU_URC = frozenset({"+CMT", "+CDS"})
# Verbose +CME texts (AT+CMEE=2 modems) mapped to their 3GPP TS 27.007 numbers.
_CME_TEXT = {
    "SIM NOT INSERTED": 10,
    "SIM PIN REQUIRED": 11,
    "SIM PUK REQUIRED": 12,
    "SIM FAILURE": 13,
    "SIM BUSY": 14,
    "SIM WRONG": 15,
    "INCORRECT PASSWORD": 16,
}
_PREFIX = re.compile(r"^([+^][A-Z0-9]+)(?=[:=?]|$)", re.IGNORECASE)
_HEX = re.compile(r"^[0-9A-Fa-f]+$")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
# Line noise seen around power-up and the Ctrl-Z/ESC we wrote, echoed back.
_NOISE = b" \t\x00\x1a\x1b\xff"


def command_prefix(command: str) -> str | None:
    """The ``+XXX``/``^XXX`` an answer to ``command`` starts with (``AT+CMGL=4`` -> ``+CMGL``)."""
    body = command.strip()
    if body[:2].upper() == "AT":
        body = body[2:]
    match = _PREFIX.match(body)
    return match.group(1).upper() if match else None


class AtParser:
    """Turns modem bytes into events, knowing which command (if any) is pending."""

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self._max_line = max_line
        self._buf = bytearray()
        self._events: deque[Event] = deque()
        self._discarding = False  # inside an over-long line: drop bytes up to the next EOL
        self._command: str | None = None
        self._prefix: str | None = None
        self._echo_seen = False
        self.echoes = 0  # commands echoed back: echo is on (a modem that rebooted by itself)
        self._prompt_seen = False
        self._pdu_info = False  # the next hex line is the PDU after +CMGL:/+CMGR:
        self._held: Urc | None = None  # +CMT/+CDS header waiting for its PDU line

    @property
    def pending(self) -> str | None:
        """The command whose reply is being parsed, or None when idle."""
        return self._command

    def begin(self, command: str) -> None:
        """Mark ``command`` as pending: its echo is dropped and its ``+XXX:`` lines are Info."""
        self._command = command.strip()
        self._prefix = command_prefix(command)
        self._echo_seen = False
        self._prompt_seen = False
        self._pdu_info = False

    def end(self) -> None:
        """Forget the pending command (after its Final, or when the caller gave up waiting)."""
        self._command = None
        self._prefix = None
        self._pdu_info = False

    def feed(self, data: bytes) -> None:
        """Append bytes read from the modem; events come out of ``next_event``."""
        self._buf += data

    def next_event(self) -> Event | NeedData:
        """The next event, or ``NEED_DATA`` if the buffer holds no complete one."""
        while not self._events and self._step():
            pass
        return self._events.popleft() if self._events else NEED_DATA

    # -- framing ---------------------------------------------------------------------------

    def _step(self) -> bool:
        """Consume one unit (line, prompt, junk) from the buffer; False if more bytes needed."""
        buf = self._buf
        if self._discarding:
            end = _eol(buf)
            if end < 0:
                buf.clear()
                return False
            del buf[: end + 1]
            self._discarding = False
            return True
        # At a line start: line ends and indentation carry nothing; a prompt has no EOL.
        skip = 0
        while skip < len(buf) and buf[skip] in b"\r\n \t":
            skip += 1
        del buf[:skip]
        if not buf:
            return False
        if buf[0] == ord(">") and self._wants_prompt():
            del buf[:1]
            self._prompt_seen = True
            self._emit(Prompt())
            return True
        end = _eol(buf)
        if end < 0:
            if len(buf) > self._max_line:
                self._emit(Garbage(bytes(buf[: self._max_line]), "line too long"))
                buf.clear()
                self._discarding = True
            return False
        raw = bytes(buf[:end])
        del buf[: end + 1]
        if len(raw) > self._max_line:
            self._emit(Garbage(raw[: self._max_line], "line too long"))
        else:
            self._line(raw)
        return True

    def _wants_prompt(self) -> bool:
        return self._prefix in ("+CMGS", "+CMGW")

    def _emit(self, event: Event) -> None:
        """Queue an event; a held +CMT/+CDS header goes first when its PDU did not follow."""
        if self._held is not None:
            self._events.append(self._held)
            self._held = None
        self._events.append(event)

    # -- classification --------------------------------------------------------------------

    def _line(self, raw: bytes) -> None:
        stripped = raw.strip(_NOISE)
        if not stripped:
            return
        try:
            # Modems talk IRA (ASCII) or, after AT+CSCS="UTF-8", UTF-8: anything else is noise.
            line = stripped.decode("utf-8")
        except UnicodeDecodeError:
            self._emit(Garbage(raw, "not utf-8"))
            return
        if _CONTROL.search(line):
            self._emit(Garbage(raw, "control characters"))
            return
        if self._held is not None and _HEX.match(line):
            held, self._held = self._held, None
            self._events.append(Urc(held.name, held.line, line))
            return
        if self._command is not None and self._reply_line(line):
            return
        self._unsolicited(line)

    def _reply_line(self, line: str) -> bool:
        """Handle ``line`` as part of the pending command's reply; False if it is not."""
        upper = line.upper()
        if not self._echo_seen and upper == (self._command or "").upper():
            self._echo_seen = True  # echo is on: the modem repeats the command first
            self.echoes += 1
            return True
        final = _final(line, self._command or "")
        if final is not None:
            self._emit(final)
            self.end()
            return True
        if self._prompt_seen and _HEX.match(line):
            return True  # the PDU we typed at the prompt, echoed back
        if self._pdu_info and _HEX.match(line):
            self._pdu_info = False
            self._emit(Info(line))
            return True
        match = _PREFIX.match(line)
        prefix = match.group(1).upper() if match else None
        if prefix is not None and prefix == self._prefix:
            self._pdu_info = prefix in _PDU_INFO
            self._emit(Info(line))
            return True
        if prefix in _URC_PREFIXES or upper in _URC_WORDS or upper in _DIAL_FINALS:
            return False
        # Bare text (AT+CGMI, ATI) and vendor lines we cannot place belong to the reply.
        self._emit(Info(line))
        return True

    def _unsolicited(self, line: str) -> None:
        upper = line.upper()
        match = _PREFIX.match(line)
        prefix = match.group(1).upper() if match else None
        if prefix in _URC_PREFIXES:
            urc = Urc(prefix, line)
            if prefix in _PDU_URC:
                self._emit_pending_held(urc)
                return
            self._emit(urc)
        elif upper in _URC_WORDS or upper in _DIAL_FINALS:
            self._emit(Urc(_canonical_word(upper), line))
        else:
            self._emit(Urc("?", line))  # unknown, or a stale reply nobody is waiting for

    def _emit_pending_held(self, urc: Urc) -> None:
        """Hold a +CMT/+CDS header until we see whether a PDU line follows it."""
        if self._held is not None:
            self._events.append(self._held)
        self._held = urc


def _eol(buf: bytearray) -> int:
    """Index of the first CR or LF in ``buf``, or -1."""
    cr = buf.find(b"\r")
    lf = buf.find(b"\n")
    if cr < 0:
        return lf
    if lf < 0:
        return cr
    return min(cr, lf)


def _canonical_word(upper: str) -> str:
    names = {"CALL READY": "Call Ready", "SMS READY": "SMS Ready"}
    return names.get(upper, upper)


def _final(line: str, command: str) -> Final | None:
    """The final result code ``line`` represents for ``command``, or None."""
    upper = line.upper()
    if upper == "OK":
        return Final(True, "OK", None, "")
    if upper == "ERROR":
        return Final(False, "ERROR", None, "")
    if upper == "COMMAND NOT SUPPORT":
        return Final(False, "ERROR", None, line)
    if upper in _DIAL_FINALS and command.upper().startswith("ATD"):
        return Final(False, upper, None, line)
    for kind in ("CMS", "CME"):
        head = f"+{kind} ERROR:"
        if upper.startswith(head):
            text = line[len(head) :].strip()
            code = int(text) if text.isdigit() else None
            if code is None and kind == "CME":
                code = _CME_TEXT.get(text.upper())
            return Final(False, kind, code, text)
    return None
