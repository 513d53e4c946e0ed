"""Profile validation rules and single-transaction writes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from store import InvalidInput, Store
from store.accounts import luhn_ok, validate_field

T0 = datetime(2026, 9, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    ("field", "raw", "stored"),
    [
        ("email", " a@b.co ", "a@b.co"),
        ("imei", "490154203237518", "490154203237518"),
        ("age_band", "16-", "16-"),
        ("age_band", "51+", "51+"),
        ("country", "gb", "GB"),
        ("gender", "Non-Binary", "non-binary"),
        ("postal_code", "sw1a 1aa", "SW1A 1AA"),
        ("first_name", "", None),
    ],
)
def test_valid_values_are_normalised(field: str, raw: str, stored: str | None) -> None:
    """Accepted values come back in their stored form."""
    assert validate_field(field, raw) == stored


@pytest.mark.parametrize(
    ("field", "raw"),
    [
        ("email", "a@b"),
        ("imei", "490154203237519"),
        ("imei", "49015420323751"),
        ("imei", "٤90154203237518"),
        ("age_band", "18"),
        ("country", "UK"),
        ("gender", "robot"),
        ("first_name", "x" * 51),
        ("first_name", "a\nb"),
        ("phone", "+44"),
    ],
)
def test_invalid_values_name_the_field(field: str, raw: str) -> None:
    """Rejected values raise InvalidInput naming what was wrong."""
    with pytest.raises(InvalidInput):
        validate_field(field, raw)


def test_luhn() -> None:
    """The Luhn check accepts a known IMEI and rejects a changed digit."""
    assert luhn_ok("490154203237518") and not luhn_ok("490154203237528")


def test_update_is_all_or_nothing(db_target: str) -> None:
    """One bad field in an update leaves every field unchanged."""
    with Store.open(db_target) as store:
        person = store.directory.create_person("+447700900700", T0)
        with pytest.raises(InvalidInput):
            store.accounts.update_person(
                person.user_code, {"first_name": "Ann", "imei": "1"}, actor="op"
            )
        assert store.accounts.person_profile(person.user_code).first_name is None
        assert store.audit.list_audit() == []
