"""Who the SIM is: ICCID, IMSI and (where the operator wrote it to the SIM) its own number.

Each vendor has its own ICCID command (``AT+CCID``, Huawei ``AT^ICCID?``, Quectel
``AT+QCCID``); the first that answers with digits wins. Unsupported commands give None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from modem.errors import AtError
from modem.status import Commander, reply_fields

__all__ = ["SimIdentity", "gather_identity"]

_ICCID = re.compile(r"\b(89[0-9]{15,20}F?)\b", re.IGNORECASE)
_IMSI = re.compile(r"\b([0-9]{6,15})\b")
_NUMBER = re.compile(r"\+?[0-9]{3,20}")


@dataclass(frozen=True)
class SimIdentity:
    """The SIM's identity; a field is None when the modem or the SIM does not say."""

    iccid: str | None
    imsi: str | None
    own_number: str | None


def _lines(command: Commander, cmd: str) -> list[str]:
    try:
        return command(cmd)
    except AtError:
        return []


def _iccid(command: Commander) -> str | None:
    for cmd in ("AT+CCID", "AT^ICCID?", "AT+QCCID"):
        for line in _lines(command, cmd):
            if match := _ICCID.search(line):
                return match.group(1).upper().rstrip("F")
    return None


def gather_identity(command: Commander) -> SimIdentity:
    """ICCID, IMSI (``AT+CIMI``) and own number (``AT+CNUM``, often empty)."""
    found = (_IMSI.search(line) for line in _lines(command, "AT+CIMI"))
    imsi = next((m.group(1) for m in found if m is not None), None)
    fields = reply_fields(_lines(command, "AT+CNUM"), "+CNUM") or []
    number = fields[1] if len(fields) >= 2 and _NUMBER.fullmatch(fields[1]) else None
    return SimIdentity(iccid=_iccid(command), imsi=imsi, own_number=number)
