"""Businesses, codes (with aliases) and people: the gateway's directory (`store.directory`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from store.base import Part, fetch_rows, from_ts, to_ts
from store.errors import Conflict, InvalidInput, NotFound
from store.models_people import (
    RESERVED_KEYWORDS,
    USER_CODE_ALPHABET,
    USER_CODE_LENGTH,
    Business,
    Code,
    Person,
)
from store.textfold import fold_keyword

__all__ = ["Directory", "new_user_code", "normalize_keyword", "person_from_row"]

_MAX_KEYWORD_LEN = 20
_USER_CODE_TRIES = 20

_CODE_SELECT = """
SELECT c.*, b.name AS business_name,
       (SELECT group_concat(alias, ' ') FROM
            (SELECT alias FROM code_aliases a WHERE a.code_id = c.id ORDER BY alias) x
       ) AS alias_list
FROM codes c JOIN businesses b ON b.id = c.business_id
"""


def normalize_keyword(word: str) -> str:
    """Upper-case, validated keyword or alias; raises `InvalidInput` naming the problem."""
    keyword = fold_keyword(word.strip())
    if not keyword or not keyword.isalnum() or len(keyword) > _MAX_KEYWORD_LEN:
        raise InvalidInput(f"keyword must be 1-{_MAX_KEYWORD_LEN} letters or digits: {word!r}")
    if keyword in RESERVED_KEYWORDS:
        raise InvalidInput(f"keyword {keyword} is reserved by the gateway")
    return keyword


def new_user_code() -> str:
    """A fresh random user code from the unambiguous alphabet (uniqueness is the DB's job)."""
    # The OS's CSPRNG, which is all `secrets.choice` is: `secrets` would also load hashlib and
    # OpenSSL (~3.5 MB resident in the daemon, issue 12). Imported here: `smsd send` makes no code.
    from random import SystemRandom

    # One uniform draw below 31**6, written in base 31: each code equally likely, as with six
    # draws of one letter each, but one read of the OS's random source instead of six.
    base = len(USER_CODE_ALPHABET)
    number = SystemRandom().randrange(base**USER_CODE_LENGTH)
    letters = []
    for _ in range(USER_CODE_LENGTH):
        number, digit = divmod(number, base)
        letters.append(USER_CODE_ALPHABET[digit])
    return "".join(letters)


def _business(row: dict[str, Any]) -> Business:
    created = from_ts(row["created_at"])
    assert created is not None
    return Business(row["id"], row["name"], row["daily_cap"], created)


def _code(row: dict[str, Any]) -> Code:
    created = from_ts(row["created_at"])
    assert created is not None
    aliases = tuple(row["alias_list"].split(" ")) if row["alias_list"] else ()
    return Code(
        id=row["id"],
        business_id=row["business_id"],
        business_name=row["business_name"],
        keyword=row["keyword"],
        reply=row["reply"],
        description=row["description"],
        paused=bool(row["paused"]),
        starts_at=from_ts(row["starts_at"]),
        ends_at=from_ts(row["ends_at"]),
        created_at=created,
        aliases=aliases,
    )


def person_from_row(row: dict[str, Any]) -> Person:
    """Build a `Person` from a `people` row."""
    created = from_ts(row["created_at"])
    assert created is not None
    return Person(row["id"], row["phone"], row["user_code"], created, from_ts(row["erased_at"]))


class Directory(Part):
    """Businesses, codes and people (`store.directory`)."""

    def add_business(
        self, name: str, *, daily_cap: int | None = None, now: datetime | None = None
    ) -> Business:
        """Create a business; `Conflict` if the name (case-insensitive) exists."""
        name = name.strip()
        if not name:
            raise InvalidInput("business name must not be empty")
        at = to_ts(now or datetime.now(UTC))
        with self.core.transaction() as db:
            cur = db.execute(
                "INSERT INTO businesses (name, daily_cap, created_at) VALUES (?, ?, ?)",
                (name, daily_cap, at),
            )
            return self.get_business(int(cur.lastrowid or 0))

    def get_business(self, business: int | str) -> Business:
        """A business by id or name (case-insensitive); `NotFound` otherwise."""
        column = "id" if isinstance(business, int) else "name"
        row = self._one(f"SELECT * FROM businesses WHERE {column} = ?", (business,))  # noqa: S608
        if row is None:
            raise NotFound(f"no business {business!r}")
        return _business(row)

    def list_businesses(self) -> list[Business]:
        """Every business, by name."""
        return [_business(r) for r in self._rows("SELECT * FROM businesses ORDER BY name")]

    def add_code(
        self,
        business: int | str,
        keyword: str,
        reply: str,
        description: str | None = None,
        aliases: Iterable[str] = (),
        *,
        starts_at: datetime | None = None,
        ends_at: datetime | None = None,
        now: datetime | None = None,
    ) -> Code:
        """Create a code for `business`; keywords and aliases are unique gateway-wide."""
        word = normalize_keyword(keyword)
        alias_words = [normalize_keyword(a) for a in aliases]
        if not reply.strip():
            raise InvalidInput("reply must not be empty")
        at = to_ts(now or datetime.now(UTC))
        with self.core.transaction() as db:
            owner = self.get_business(business)
            self._check_free([word, *alias_words])
            cur = db.execute(
                "INSERT INTO codes (business_id, keyword, reply, description, starts_at, ends_at,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    owner.id,
                    word,
                    reply,
                    description,
                    None if starts_at is None else to_ts(starts_at),
                    None if ends_at is None else to_ts(ends_at),
                    at,
                ),
            )
            code_id = int(cur.lastrowid or 0)
            for alias in alias_words:
                db.execute(
                    "INSERT INTO code_aliases (alias, code_id) VALUES (?, ?)", (alias, code_id)
                )
            return self._code_by_id(code_id)

    def add_alias(self, keyword: str, alias: str) -> Code:
        """Give an existing code one more keyword."""
        word = normalize_keyword(alias)
        with self.core.transaction() as db:
            code = self.get_code(keyword)
            self._check_free([word])
            db.execute("INSERT INTO code_aliases (alias, code_id) VALUES (?, ?)", (word, code.id))
            return self._code_by_id(code.id)

    def set_code_paused(self, keyword: str, paused: bool) -> Code:
        """Pause or resume a code (a paused code is treated as unknown by the router)."""
        with self.core.transaction() as db:
            code = self.get_code(keyword)
            db.execute("UPDATE codes SET paused = ? WHERE id = ?", (int(paused), code.id))
            return self._code_by_id(code.id)

    def find_code(self, word: str) -> Code | None:
        """The code whose keyword or alias is `word` (case-insensitive), active or not."""
        key = fold_keyword(word.strip())
        rows = fetch_rows(
            self.core,
            _CODE_SELECT + " WHERE c.keyword = ?1"  # noqa: S608 - constant SQL, bound values
            " OR c.id = (SELECT code_id FROM code_aliases WHERE alias = ?1)",
            (key,),
        )
        return _code(rows[0]) if rows else None

    def get_code(self, keyword: str) -> Code:
        """Like `find_code` but raises `NotFound`."""
        code = self.find_code(keyword)
        if code is None:
            raise NotFound(f"no code {keyword.strip().upper()!r}")
        return code

    def list_codes(self, business: int | str | None = None) -> list[Code]:
        """Every code (of one business when given), by keyword."""
        if business is None:
            rows = self._rows(_CODE_SELECT + " ORDER BY c.keyword")
        else:
            owner = self.get_business(business)
            rows = self._rows(
                _CODE_SELECT + " WHERE c.business_id = ? ORDER BY c.keyword", (owner.id,)
            )
        return [_code(r) for r in rows]

    def find_person(self, phone: str) -> Person | None:
        """The (not erased) person with this E.164 phone number."""
        rows = fetch_rows(self.core, "SELECT * FROM people WHERE phone = ?", (phone,))
        return person_from_row(rows[0]) if rows else None

    def get_person(self, user_code: str) -> Person:
        """A person by user code (erased people included); `NotFound` otherwise."""
        row = self._one("SELECT * FROM people WHERE user_code = ?", (user_code.strip().upper(),))
        if row is None:
            raise NotFound(f"no person with user code {user_code!r}")
        return person_from_row(row)

    def erase_person(self, user_code: str, now: datetime | None = None) -> Person:
        """Forget a person's phone number; the row and its user code stay (never reused)."""
        at = to_ts(now or datetime.now(UTC))
        with self.core.transaction() as db:
            person = self.get_person(user_code)
            db.execute(
                "UPDATE people SET phone = NULL, erased_at = ?, first_name = NULL, surname = NULL,"
                " email = NULL, postal_code = NULL, password_hash = NULL, imei = NULL"
                " WHERE id = ?",
                (at, person.id),
            )
            return self.get_person(user_code)

    def create_person(self, phone: str, now: datetime) -> Person:
        """Insert a person with a fresh unique user code; `Conflict` if the phone exists."""
        with self.core.transaction() as db:
            for _ in range(_USER_CODE_TRIES):
                # A drawn code already taken inserts nothing (draw again); on PostgreSQL a
                # failed statement would abort the whole transaction, so no try/except.
                try:
                    cur = db.execute(
                        "INSERT INTO people (phone, user_code, created_at) VALUES (?, ?, ?)"
                        " ON CONFLICT (user_code) DO NOTHING",
                        (phone, new_user_code(), to_ts(now)),
                    )
                except (sqlite3.IntegrityError, Conflict) as exc:
                    raise Conflict(f"a person with that phone already exists: {exc}") from exc
                if cur.rowcount == 0:
                    continue
                rows = fetch_rows(self.core, "SELECT * FROM people WHERE id = ?", (cur.lastrowid,))
                return person_from_row(rows[0])
        raise Conflict("could not draw an unused user code")  # pragma: no cover

    def _code_by_id(self, code_id: int) -> Code:
        row = self._one(_CODE_SELECT + " WHERE c.id = ?", (code_id,))
        if row is None:
            raise NotFound(f"no code id {code_id}")
        return _code(row)

    def _check_free(self, words: list[str]) -> None:
        if len(set(words)) != len(words):
            raise Conflict(f"keyword repeated among {words}")
        for word in words:
            taken = self._one(
                "SELECT 1 FROM codes WHERE keyword = ?1"
                " UNION ALL SELECT 1 FROM code_aliases WHERE alias = ?1",
                (word,),
            )
            if taken is not None:
                raise Conflict(f"keyword {word} is already taken")
