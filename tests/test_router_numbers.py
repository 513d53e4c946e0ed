"""Phone number normalisation and sender classification."""

from __future__ import annotations

import pytest

from smsd.numbers import InvalidNumber, normalize_sender, sender_kind, to_e164


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("07700 900123", "GB", "+447700900123"),
        ("+44 7700 900123", "US", "+447700900123"),
        ("0044 7700-900-123", "GB", "+447700900123"),
        ("06 12 34 56 78", "FR", "+33612345678"),
    ],
)
def test_to_e164(raw: str, region: str, expected: str) -> None:
    """National and spaced formats become E.164 using the default region."""
    assert to_e164(raw, region) == expected


def test_international_ton_without_plus() -> None:
    """TON 1 digits without '+' already carry the country code."""
    assert to_e164("447700900123", "FR", international=True) == "+447700900123"


@pytest.mark.parametrize("raw", ["hello", "123", ""])
def test_invalid_numbers(raw: str) -> None:
    """Text that is not a possible phone number raises InvalidNumber."""
    with pytest.raises(InvalidNumber):
        to_e164(raw, "GB")


@pytest.mark.parametrize(
    ("raw", "ton", "kind"),
    [
        ("+447700900123", 1, "international"),
        ("447700900123", 1, "international"),
        ("07700900123", 0, "national"),
        ("VODAFONE", 5, "alphanumeric"),
        ("Amazon", None, "alphanumeric"),
        ("84444", 0, "shortcode"),
        ("123456", None, "shortcode"),
        ("1234567", None, "national"),
    ],
)
def test_sender_kind(raw: str, ton: int | None, kind: str) -> None:
    """Senders are classified by TON and shape."""
    assert sender_kind(raw, ton) == kind


def test_normalize_sender_keeps_odd_numbers() -> None:
    """An unparseable national number is kept as given rather than dropped."""
    assert normalize_sender("07700 900123", 0, "GB") == ("+447700900123", "national")
    assert normalize_sender(" VODAFONE ", 5, "GB") == ("VODAFONE", "alphanumeric")
    assert normalize_sender("84 444", 0, "GB") == ("84444", "shortcode")
