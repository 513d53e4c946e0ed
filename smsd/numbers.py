"""Phone numbers: E.164 normalisation and what kind of sender a message came from.

Operators hand us numbers with spaces, national prefixes or no `+`; everything above this
module sees E.164 (`+447700900123`) for people, the raw text for alphanumeric senders
(`VODAFONE`) and the digits for short codes (`84444`).
"""

from __future__ import annotations

import re
from typing import Literal

from smsd import phonelib

__all__ = ["InvalidNumber", "SenderKind", "normalize_sender", "sender_kind", "to_e164"]

SenderKind = Literal["international", "national", "alphanumeric", "shortcode"]

_TON_INTERNATIONAL = 1
_TON_ALPHANUMERIC = 5
_SEPARATORS = re.compile(r"[\s\-().]")
_DIGITS = re.compile(r"\+?\d+")


class InvalidNumber(ValueError):
    """The text is not a phone number we can put in E.164 form."""


def _clean(raw: str) -> str:
    return _SEPARATORS.sub("", raw.strip())


def sender_kind(raw: str, ton: int | None = None, *, short_code_max_len: int = 6) -> SenderKind:
    """Classify a sender address from the PDU's text and type of number (TON)."""
    cleaned = _clean(raw)
    if ton == _TON_ALPHANUMERIC or not _DIGITS.fullmatch(cleaned):
        return "alphanumeric"
    digits = cleaned.lstrip("+")
    if (
        not cleaned.startswith("+")
        and ton != _TON_INTERNATIONAL
        and len(digits) <= short_code_max_len
    ):
        return "shortcode"
    if cleaned.startswith("+") or ton == _TON_INTERNATIONAL:
        return "international"
    return "national"


def to_e164(raw: str, default_region: str = "GB", *, international: bool = False) -> str:
    """E.164 form of `raw`; national formats use `default_region`. Raises `InvalidNumber`.

    `international=True` (TON 1) means the digits already start with the country code even
    when the `+` is missing, as some modems print them.
    """
    # Idle memory: phonenumbers (about 2 MB resident) is loaded by the first number to
    # normalise, so a daemon that has received nothing yet does not hold it; and only its
    # parsing half (`smsd.phonelib`), which is what `smsd send` pays for.
    phonelib.prepare()
    from phonenumbers import phonenumberutil as phonenumbers

    cleaned = _clean(raw)
    if international and not cleaned.startswith("+"):
        cleaned = "+" + cleaned
    try:
        parsed = phonenumbers.parse(cleaned, default_region.upper())
    except phonenumbers.NumberParseException as exc:
        raise InvalidNumber(f"not a phone number: {exc}") from exc
    # Possible, not valid: reserved test ranges (e.g. UK 07700 900xxx) must still work.
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidNumber("not a possible phone number for its country")
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def normalize_sender(
    raw: str, ton: int | None, default_region: str, *, short_code_max_len: int = 6
) -> tuple[str, SenderKind]:
    """(address, kind) for an incoming sender: E.164 for numbers we can parse, else as given."""
    kind = sender_kind(raw, ton, short_code_max_len=short_code_max_len)
    if kind == "alphanumeric":
        return raw.strip(), kind
    if kind == "shortcode":
        return _clean(raw), kind
    try:
        return to_e164(raw, default_region, international=kind == "international"), kind
    except InvalidNumber:
        # Keep the message: an odd number is still a sender we store (and answer as given).
        return _clean(raw), kind
