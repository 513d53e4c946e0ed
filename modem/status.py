"""Reply parsing for the Modem: stored messages and the status snapshot.

Pure functions over the ``Info`` lines a command returned, plus ``gather_status`` which asks
the questions through any ``command`` callable (the Modem's, or a fake in tests).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from modem.errors import AtError

__all__ = [
    "Commander",
    "ModemStatus",
    "StoredMessage",
    "gather_status",
    "parse_cmgl",
    "parse_cmgr",
    "parse_cmgs",
    "reply_fields",
    "rssi_to_dbm",
    "split_fields",
]

# 3GPP TS 27.007 §7.2 <stat> of +CREG/+CGREG/+CEREG.
_REGISTRATION = {
    0: "not_registered",
    1: "home",
    2: "searching",
    3: "denied",
    4: "unknown",
    5: "roaming",
    6: "home_sms_only",
    7: "roaming_sms_only",
}
_REGISTERED = frozenset({"home", "roaming", "home_sms_only", "roaming_sms_only"})


class Commander(Protocol):
    """Anything that runs an AT command and returns its Info lines (``Modem.command``)."""

    def __call__(self, cmd: str, timeout: float | None = None) -> list[str]: ...


@dataclass(frozen=True)
class StoredMessage:
    """A message in modem storage: ``index`` for AT+CMGR/CMGD, ``status`` 0-3, hex ``pdu``."""

    index: int
    status: int
    pdu: str


@dataclass(frozen=True)
class ModemStatus:
    """What ``smsd status`` shows; a field is None when the modem did not answer it."""

    manufacturer: str | None
    model: str | None
    imei: str | None
    sim: str | None
    registration: str | None
    operator: str | None
    signal_dbm: int | None
    storage_used: int | None
    storage_total: int | None
    iccid: str | None = None
    imsi: str | None = None
    own_number: str | None = None
    report_routing: str | None = None  # modem.reports.ReportRouting.describe()


def split_fields(text: str) -> list[str]:
    """Split ``0,0,"Vodafone, UK",7`` into fields, unquoting and keeping quoted commas."""
    fields: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            fields.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    fields.append("".join(current).strip())
    return fields


def reply_fields(lines: Sequence[str], prefix: str) -> list[str] | None:
    """Fields of the first ``<prefix>: ...`` line, or None if there is none."""
    head = prefix.upper() + ":"
    for line in lines:
        if line.upper().startswith(head):
            return split_fields(line[len(head) :].strip())
    return None


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def parse_cmgl(lines: Sequence[str]) -> list[StoredMessage]:
    """``+CMGL: <index>,<stat>,[alpha],<len>`` + PDU line pairs; malformed pairs are skipped."""
    messages: list[StoredMessage] = []
    header: list[str] | None = None
    for line in lines:
        fields = reply_fields([line], "+CMGL")
        if fields is not None:
            header = fields
            continue
        if header is not None and len(header) >= 2:
            index, status = _int(header[0]), _int(header[1])
            if index is not None and status is not None and line:
                messages.append(StoredMessage(index, status, line.upper()))
        header = None
    return messages


def parse_cmgr(lines: Sequence[str], index: int) -> StoredMessage | None:
    """``+CMGR: <stat>,[alpha],<len>`` + PDU line, or None for an empty slot."""
    for position, line in enumerate(lines):
        fields = reply_fields([line], "+CMGR")
        if fields is None:
            continue
        status = _int(fields[0]) if fields else None
        if status is None or position + 1 >= len(lines):
            return None
        pdu = lines[position + 1].strip()
        return StoredMessage(index, status, pdu.upper()) if pdu else None
    return None


def parse_cmgs(lines: Sequence[str]) -> int | None:
    """The TP-MR (0..255) of the first ``+CMGS: <mr>`` line, or None if there is none."""
    for line in lines:
        if line.upper().startswith("+CMGS:"):
            reference = line[6:].split(",")[0].strip()
            if reference.isdigit():
                return int(reference) % 256
    return None


def rssi_to_dbm(rssi: int) -> int | None:
    """AT+CSQ <rssi> 0..31 -> -113..-51 dBm (27.007 §8.5); 99 (unknown) -> None."""
    if 0 <= rssi <= 31:
        return -113 + 2 * rssi
    return None


def _ask(command: Commander, cmd: str) -> list[str] | None:
    """Run ``cmd``; an error answer means "not supported here", so None rather than raise."""
    try:
        return command(cmd)
    except AtError:
        return None


def _text(command: Commander, cmd: str, prefix: str) -> str | None:
    lines = _ask(command, cmd)
    for line in lines or []:
        text = line[len(prefix) + 1 :] if line.upper().startswith(prefix + ":") else line
        text = text.strip().strip('"')
        if text:
            return text
    return None


def _registration(command: Commander) -> str | None:
    best: str | None = None
    for query in ("+CREG", "+CGREG", "+CEREG"):
        fields = reply_fields(_ask(command, f"AT{query}?") or [], query)
        stat = _int(fields[1]) if fields and len(fields) >= 2 else None
        if stat is None:
            continue
        name = _REGISTRATION.get(stat, "unknown")
        if name in _REGISTERED:
            return name  # SMS works when any of CS, GPRS or EPS registration does (LTE-only)
        best = best or name
    return best


def gather_status(command: Commander) -> ModemStatus:
    """Query identity, SIM, network, signal and storage; unsupported queries give None."""
    cpin = reply_fields(_ask(command, "AT+CPIN?") or [], "+CPIN")
    cops = reply_fields(_ask(command, "AT+COPS?") or [], "+COPS")
    csq = reply_fields(_ask(command, "AT+CSQ") or [], "+CSQ")
    cpms = reply_fields(_ask(command, "AT+CPMS?") or [], "+CPMS")
    rssi = _int(csq[0]) if csq else None
    return ModemStatus(
        manufacturer=_text(command, "AT+CGMI", "+CGMI"),
        model=_text(command, "AT+CGMM", "+CGMM"),
        imei=_text(command, "AT+CGSN", "+CGSN"),
        sim=cpin[0].upper() if cpin and cpin[0] else None,
        registration=_registration(command),
        operator=cops[2] if cops and len(cops) >= 3 and cops[2] else None,
        signal_dbm=rssi_to_dbm(rssi) if rssi is not None else None,
        storage_used=_int(cpms[1]) if cpms and len(cpms) >= 3 else None,
        storage_total=_int(cpms[2]) if cpms and len(cpms) >= 3 else None,
    )
