"""Accounts: people's and businesses' profiles, passwords, erasure.

Every value is validated before anything is written (`InvalidInput` names the field), and each
operation is one transaction together with its audit record, so nothing is half-written.
Erasure removes the phone number everywhere it is stored (people, incoming senders and
dedupe keys, outgoing recipients) and keeps the history under the orphaned user code.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import phonenumbers

from store.audit import Audit
from store.base import Part, StoreBase, from_ts, to_ts
from store.directory import Directory
from store.errors import Conflict, InvalidInput, NotFound
from store.models_people import Person
from store.passwords import hash_password, verify_password
from store.rollups import PERSON_DIMENSIONS, Rollups

__all__ = [
    "AGE_BANDS",
    "BUSINESS_FIELDS",
    "GENDERS",
    "PERSON_FIELDS",
    "Accounts",
    "BusinessProfile",
    "PersonProfile",
    "already_registered",
    "luhn_ok",
    "validate_field",
]

#: Age bands offered to people, with their labels.
AGE_BANDS = {
    "16-": "16 or under",
    "17-20": "17-20",
    "21-25": "21-25",
    "26-30": "26-30",
    "31-40": "31-40",
    "41-50": "41-50",
    "51+": "over 50",
}
GENDERS = ("female", "male", "non-binary", "other", "undisclosed")
PERSON_FIELDS = (
    "first_name", "surname", "email", "postal_code", "imei", "age_band", "country", "gender",
)  # fmt: skip
BUSINESS_FIELDS = ("first_name", "surname", "email", "sector")
_COUNTRIES = frozenset(r for r in phonenumbers.SUPPORTED_REGIONS if len(r) == 2)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_POSTAL = re.compile(r"[A-Z0-9][A-Z0-9 -]{0,9}")
_ERASED = "[erased]"


@dataclass(frozen=True)
class PersonProfile:
    """A person's profile as the operator sees it (never the password hash)."""

    user_code: str
    phone: str | None
    first_name: str | None
    surname: str | None
    email: str | None
    postal_code: str | None
    imei: str | None
    age_band: str | None
    country: str | None
    gender: str | None
    password_set: bool
    created_at: datetime
    registered_at: datetime | None
    erased_at: datetime | None


@dataclass(frozen=True)
class BusinessProfile:
    """A business's account details."""

    id: int
    name: str
    first_name: str | None
    surname: str | None
    email: str | None
    sector: str | None
    daily_cap: int | None
    password_set: bool
    created_at: datetime


def already_registered(user_code: str) -> str:
    """Why a second registration is refused, and what to do instead."""
    return (
        f"{user_code} is already registered: change details with `smsd user update {user_code}`,"
        " reset the password with `smsd user update --password`"
    )


def luhn_ok(digits: str) -> bool:
    """True when the digit string passes the Luhn check (as IMEIs do)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _name(field: str, value: str) -> str:
    if not 1 <= len(value) <= 50 or not value.isprintable():
        raise InvalidInput(f"{field}: expected 1-50 printable characters")
    return value


def validate_field(field: str, raw: str | None) -> str | None:
    """The stored form of one profile field, or `InvalidInput` naming the field and rule."""
    if raw is None or not raw.strip():
        return None
    value = raw.strip()
    if field in ("first_name", "surname"):
        return _name(field, value)
    if field == "email":
        if len(value) > 254 or not _EMAIL.fullmatch(value):
            raise InvalidInput(f"email: not an email address: {value!r}")
        return value
    if field == "postal_code":
        if not _POSTAL.fullmatch(value.upper()):
            raise InvalidInput(f"postal_code: expected 1-10 letters, digits, spaces: {value!r}")
        return value.upper()
    if field == "imei":
        if not (len(value) == 15 and value.isdigit() and value.isascii() and luhn_ok(value)):
            raise InvalidInput("imei: expected 15 digits with a valid Luhn check digit")
        return value
    if field == "age_band":
        if value not in AGE_BANDS:
            raise InvalidInput(f"age_band: expected one of {', '.join(AGE_BANDS)}")
        return value
    if field == "country":
        if value.upper() not in _COUNTRIES:
            raise InvalidInput(f"country: not an ISO 3166 alpha-2 code: {value!r}")
        return value.upper()
    if field == "gender":
        if value.lower() not in GENDERS:
            raise InvalidInput(f"gender: expected one of {', '.join(GENDERS)}")
        return value.lower()
    if field == "sector":
        return _name(field, value)
    raise InvalidInput(f"unknown field {field!r}")


def _clean(fields: Mapping[str, str | None], allowed: tuple[str, ...]) -> dict[str, str | None]:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise InvalidInput(f"unknown field {unknown[0]!r}")
    return {k: validate_field(k, v) for k, v in fields.items()}


def _profile(row: dict[str, Any]) -> PersonProfile:
    created = from_ts(row["created_at"])
    assert created is not None
    return PersonProfile(
        **{k: row[k] for k in ("user_code", "phone", *PERSON_FIELDS)},
        password_set=bool(row["password_hash"]),
        created_at=created,
        registered_at=from_ts(row["registered_at"]),
        erased_at=from_ts(row["erased_at"]),
    )


class Accounts(Part):
    """Profiles, passwords and erasure of people and businesses (`store.accounts`)."""

    def __init__(
        self, core: StoreBase, directory: Directory, audit: Audit, rollups: Rollups
    ) -> None:
        super().__init__(core)
        self._directory = directory
        self._audit = audit
        self._rollups = rollups

    def person_profile(self, user_code: str) -> PersonProfile:
        """A person's full profile by user code; `NotFound` otherwise."""
        person = self._directory.get_person(user_code)
        row = self._one("SELECT * FROM people WHERE id = ?", (person.id,))
        assert row is not None
        return _profile(row)

    def resolve_person(self, who: str) -> Person:
        """A person by E.164 phone number (starting '+') or by user code."""
        if who.startswith("+"):
            person = self._directory.find_person(who)
            if person is None:
                raise NotFound("no person with that phone number")
            return person
        return self._directory.get_person(who)

    def register_person(
        self,
        phone: str,
        user_code: str,
        fields: Mapping[str, str | None],
        *,
        password: str | None = None,
        actor: str,
        now: datetime | None = None,
    ) -> PersonProfile:
        """Save a profile for the person texting from `phone`, proven by the code they got.

        The pair must match: the person who owns `user_code` must have this phone number.
        """
        values = _clean(fields, PERSON_FIELDS)
        for required in ("first_name", "surname", "email", "postal_code"):
            if not values.get(required):
                raise InvalidInput(f"{required}: required for registration")
        secret = None if password is None else hash_password(password)
        at = now or datetime.now(UTC)
        with self.core.transaction():
            person = self._directory.find_person(phone)
            if person is None or person.user_code != user_code.strip().upper():
                raise InvalidInput("that user code was not sent to that phone number")
            if self._registered(person.id):
                raise Conflict(already_registered(person.user_code))
            self._set_person(person.id, values, secret)
            self.core.db.execute(
                "UPDATE people SET registered_at = ? WHERE id = ?", (to_ts(at), person.id)
            )
            self._audit.record_audit(actor, "user_register", person.user_code, None, now=at)
            return self.person_profile(person.user_code)

    def _registered(self, person_id: int) -> bool:
        row = self._one("SELECT registered_at FROM people WHERE id = ?", (person_id,))
        return row is not None and row["registered_at"] is not None

    def update_person(
        self,
        user_code: str,
        fields: Mapping[str, str | None],
        *,
        password: str | None = None,
        actor: str,
        reason: str | None = None,
        now: datetime | None = None,
    ) -> PersonProfile:
        """Change some profile fields (None or '' clears a field) and/or the password."""
        values = _clean(fields, PERSON_FIELDS)
        if not values and password is None:
            raise InvalidInput("nothing to change")
        secret = None if password is None else hash_password(password)
        with self.core.transaction():
            person = self._directory.get_person(user_code)
            if person.erased_at is not None:
                raise InvalidInput(f"{person.user_code} was erased")
            self._set_person(person.id, values, secret)
            changed = "changed " + ",".join(sorted(values) + (["password"] if secret else []))
            why = f"{reason}; {changed}" if reason else changed  # the fields, always
            self._audit.record_audit(actor, "user_update", person.user_code, why, now=now)
            return self.person_profile(person.user_code)

    def check_person_password(self, user_code: str, password: str) -> bool:
        """True when `password` is the person's; upgrades the stored hash when it is stale."""
        row = self._one(
            "SELECT id, password_hash FROM people WHERE user_code = ?",
            (user_code.strip().upper(),),
        )
        ok, fresh = verify_password(None if row is None else row["password_hash"], password)
        if ok and fresh is not None and row is not None:
            self._execute("UPDATE people SET password_hash = ? WHERE id = ?", (fresh, row["id"]))
        return ok

    def business_profile(self, business: int | str) -> BusinessProfile:
        """A business's account details."""
        owner = self._directory.get_business(business)
        row = self._one("SELECT * FROM businesses WHERE id = ?", (owner.id,))
        assert row is not None
        return BusinessProfile(
            id=owner.id,
            name=owner.name,
            first_name=row["first_name"],
            surname=row["surname"],
            email=row["email"],
            sector=row["sector"],
            daily_cap=owner.daily_cap,
            password_set=bool(row["password_hash"]),
            created_at=owner.created_at,
        )

    def update_business(
        self,
        business: int | str,
        fields: Mapping[str, str | None],
        *,
        password: str | None = None,
        daily_cap: int | None = None,
    ) -> BusinessProfile:
        """Change a business's contact fields, sector, daily cap and/or password."""
        values = _clean(fields, BUSINESS_FIELDS)
        secret = None if password is None else hash_password(password)
        with self.core.transaction() as db:
            owner = self._directory.get_business(business)
            moves = "sector" in values
            with self._rollups.moving_business(owner.id) if moves else contextlib.nullcontext():
                for column, value in values.items():
                    db.execute(
                        f"UPDATE businesses SET {column} = ? WHERE id = ?",  # noqa: S608
                        (value, owner.id),
                    )
            if secret is not None:
                db.execute(
                    "UPDATE businesses SET password_hash = ? WHERE id = ?", (secret, owner.id)
                )
            if daily_cap is not None:
                db.execute(
                    "UPDATE businesses SET daily_cap = ? WHERE id = ?", (daily_cap, owner.id)
                )
            return self.business_profile(owner.id)

    def check_business_password(self, business: str, password: str) -> bool:
        """True when `password` is the business's; upgrades a stale hash."""
        row = self._one("SELECT id, password_hash FROM businesses WHERE name = ?", (business,))
        ok, fresh = verify_password(None if row is None else row["password_hash"], password)
        if ok and fresh is not None and row is not None:
            self._execute(
                "UPDATE businesses SET password_hash = ? WHERE id = ?", (fresh, row["id"])
            )
        return ok

    def erase_everywhere(
        self, user_code: str, *, actor: str, reason: str, now: datetime | None = None
    ) -> Person:
        """Erase a person: profile and number gone everywhere; history kept under the code."""
        if not reason.strip():
            raise InvalidInput("erasure needs a reason")
        at = now or datetime.now(UTC)
        with self.core.transaction() as db:
            person = self._directory.get_person(user_code)
            phone = person.phone
            self._directory.erase_person(person.user_code, now=at)
            with self._rollups.moving_person(person.id):
                db.execute(
                    "UPDATE people SET age_band = NULL, country = NULL, gender = NULL,"
                    " registered_at = NULL WHERE id = ?",
                    (person.id,),
                )
            if phone is not None:
                db.execute(
                    "UPDATE incoming SET sender = ?, text = NULL, raw_pdu = NULL,"
                    " dedupe_key = 'erased:' || id WHERE sender = ?",
                    (_ERASED, phone),
                )
            db.execute(
                "UPDATE outgoing SET state = 'failed', error = 'recipient erased'"
                " WHERE state IN ('queued', 'sending') AND (person_id = ? OR recipient = ?)",
                (person.id, phone or _ERASED),
            )
            db.execute(
                "UPDATE outgoing SET recipient = ?, text = ? WHERE person_id = ? OR recipient = ?",
                (_ERASED, _ERASED, person.id, phone or _ERASED),
            )
            db.execute(  # gateway-wide STOP/START records (issue 16) stay, without the number
                "UPDATE gateway_consent SET phone = ? WHERE person_id = ? OR phone = ?",
                (_ERASED, person.id, phone or _ERASED),
            )
            self._audit.record_audit(actor, "user_erase", person.user_code, reason, now=at)
            return self._directory.get_person(person.user_code)

    def _set_person(
        self, person_id: int, values: dict[str, str | None], secret: str | None
    ) -> None:
        moves = set(PERSON_DIMENSIONS.values()) & values.keys()
        with self._rollups.moving_person(person_id) if moves else contextlib.nullcontext():
            for column, value in values.items():
                self.core.db.execute(
                    f"UPDATE people SET {column} = ? WHERE id = ?",  # noqa: S608 - whitelisted
                    (value, person_id),
                )
        if secret is not None:
            self.core.db.execute(
                "UPDATE people SET password_hash = ? WHERE id = ?", (secret, person_id)
            )
