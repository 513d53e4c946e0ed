"""Guards for what the Modem writes: command lines, storage indexes, PDUs; error mapping.

Commands are built only by ``modem.modem`` from validated ints and strings; these checks are
the last line of defence against CR/LF/Ctrl-Z/ESC injection and against bulk deletes.
"""

from __future__ import annotations

import re
from typing import Protocol

from modem.at import Final
from modem.errors import AtError, CmeError, CmsError

__all__ = ["PduLike", "check_command", "check_index", "checked_pdu", "raise_for", "redact"]

_COMMAND = re.compile(r"AT[\x20-\x7e]{0,500}", re.IGNORECASE)  # printable ASCII: no CR/LF/^Z/ESC
_CMGD = re.compile(r"AT\+CMGD=(\?|[0-9]{1,5}(,0)?)", re.IGNORECASE)
_HEX = re.compile(r"(?:[0-9A-F]{2})+")


class PduLike(Protocol):
    """What ``send_pdu`` needs of ``modem.pdu.EncodedPdu`` (kept structural: no import cycle)."""

    @property
    def hex(self) -> str: ...
    @property
    def tpdu_length(self) -> int: ...


def check_command(cmd: str) -> None:
    """Refuse lines that could inject control bytes or do harm; ValueError says why."""
    if not isinstance(cmd, str) or not _COMMAND.fullmatch(cmd):
        raise ValueError("an AT command is 'AT' plus printable ASCII (no CR, LF, Ctrl-Z, ESC)")
    upper = cmd.upper()
    if upper.startswith(("AT+CMGS", "AT+CMGW")):
        raise ValueError("AT+CMGS/AT+CMGW need the prompt exchange: use send_pdu()")
    if upper.startswith("AT+CMGD") and not _CMGD.fullmatch(cmd):
        raise ValueError("only AT+CMGD=<index> is allowed: bulk deletes lose messages")


def redact(cmd: str) -> str:
    """The command as it may appear in logs and errors: never the PIN."""
    return "AT+CPIN=<redacted>" if cmd.upper().startswith("AT+CPIN=") else cmd


def raise_for(cmd: str, final: Final) -> None:
    if final.ok:
        return
    shown = redact(cmd)
    if final.kind == "CMS":
        raise CmsError(shown, final.text, final.code)
    if final.kind == "CME":
        raise CmeError(shown, final.text, final.code)
    raise AtError(shown, final.text or final.kind, final.code)


def check_index(index: int) -> None:
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= 65535:
        raise ValueError(f"storage index must be an int 0..65535, not {index!r}")


def checked_pdu(pdu: PduLike) -> tuple[str, int]:
    """The hex and TPDU length, checked: a wrong length leaves the modem waiting for bytes."""
    hex_pdu, length = pdu.hex.upper(), pdu.tpdu_length
    if isinstance(length, bool) or not isinstance(length, int) or not 1 <= length <= 255:
        raise ValueError(f"tpdu_length must be 1..255, not {length!r}")
    if not _HEX.fullmatch(hex_pdu):
        raise ValueError("PDU must be an even number of hex digits")
    smsc_octets = 1 + int(hex_pdu[:2], 16)
    if len(hex_pdu) // 2 != smsc_octets + length:
        raise ValueError("tpdu_length does not match the PDU after its SMSC part")
    return hex_pdu, length
