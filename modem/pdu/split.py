"""Splitting text into SMS parts by what each character really costs on the air.

GSM-7: 160 septets in a single message, 153 per part with an 8-bit concat reference (the
6-octet UDH plus one fill bit takes 7 septets), 152 with a 16-bit reference (7-octet UDH,
8 septets).  An extension character costs 2 septets and its escape pair is never split.

UCS2 (UTF-16BE): 70 units single, 67 per part (66 with a 16-bit reference); a character
outside the BMP is a surrogate pair, costs 2 units and is never split.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modem.errors import PduError
from modem.pdu import gsm7

if TYPE_CHECKING:  # a Literal for annotations: counting parts never builds the codec's types
    from modem.pdu.types import Encoding

__all__ = ["MAX_PARTS", "part_limits", "split_message"]

MAX_PARTS = 255  # the concat IE counts parts in one octet


def part_limits(encoding: Encoding, reference_bits: int) -> tuple[int, int]:
    """(single-message limit, per-part limit) in septets (gsm7) or UTF-16 units (ucs2)."""
    if reference_bits not in (8, 16):
        raise PduError("reference_bits must be 8 or 16")
    udh_octets = 6 if reference_bits == 8 else 7
    if encoding == "gsm7":
        return 160, 160 - (udh_octets * 8 + 6) // 7
    if encoding == "ucs2":
        return 70, (140 - udh_octets) // 2
    raise PduError(f"cannot split {encoding} text")


def _cost(ch: str, encoding: Encoding) -> int:
    if encoding == "gsm7":
        return gsm7.char_cost(ch)
    return 2 if ord(ch) > 0xFFFF else 1


def split_message(text: str, *, reference_bits: int = 8) -> tuple[str, list[str]]:
    """``(encoding, parts)``: GSM-7 when every character is in it, else UCS2.

    One part when the whole text fits a single message, else greedy parts that each fit
    the per-part limit.  More than 255 parts is a :class:`PduError`.
    """
    encoding: Encoding = "gsm7" if gsm7.is_encodable(text) else "ucs2"
    single, per_part = part_limits(encoding, reference_bits)
    costs = [_cost(ch, encoding) for ch in text]
    if sum(costs) <= single:
        return encoding, [text]
    parts: list[str] = []
    start = used = 0
    for i, cost in enumerate(costs):
        if used + cost > per_part:
            parts.append(text[start:i])
            start, used = i, 0
        used += cost
    parts.append(text[start:])
    if len(parts) > MAX_PARTS:
        raise PduError(f"message needs {len(parts)} parts; at most {MAX_PARTS} are possible")
    return encoding, parts
