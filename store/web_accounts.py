"""What the portal writes and reads beyond the CLI's parts: sign-in lookups, web sign-up and
approval of businesses, a business editing its own codes, one-click opt-out/in on the web.

`WebAccounts` is a store part over the store core. Every business-scoped method takes the
signed-in business's id and matches it in SQL, so a keyword or id of another business is
`NotFound`, never a row of someone else's. Business counts read only the privacy views.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from store.accounts import BUSINESS_FIELDS, validate_field
from store.base import Part, from_ts, to_ts
from store.errors import Conflict, InvalidInput, NotFound
from store.passwords import hash_password

__all__ = ["PLACEHOLDERS", "OptinLine", "WebAccounts", "check_placeholders"]

#: What a code's reply text may contain in braces (the router fills them in).
PLACEHOLDERS = ("user_code", "business", "code", "gateway", "contact")
_BRACED = re.compile(r"\{([^{}]*)\}")


def check_placeholders(text: str) -> str:
    """`text` stripped, or `InvalidInput` naming an unknown `{placeholder}` or a stray brace."""
    value = text.strip()
    if not value:
        raise InvalidInput("reply: must not be empty")
    if len(value) > 1000:
        raise InvalidInput("reply: at most 1,000 characters")
    for name in _BRACED.findall(value):
        if name not in PLACEHOLDERS:
            known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            raise InvalidInput(f"reply: unknown placeholder {{{name}}} (use {known})")
    if "{" in _BRACED.sub("", value) or "}" in _BRACED.sub("", value):
        raise InvalidInput("reply: a brace without its pair")
    return value


@dataclass(frozen=True)
class OptinLine:
    """A business in a person's ledger: its latest state and when that began."""

    business_id: int
    business: str
    opted_in: bool
    since: datetime
    first_in: datetime | None


class WebAccounts(Part):
    """Sign-in lookups, web sign-up, approval, code edits and web opt-in/out."""

    def _first(self, sql: str, params: tuple[object, ...]) -> tuple[object, ...] | None:
        with self.core.transaction(write=False) as db:
            row = db.conn.execute(sql, params).fetchone()
        return None if row is None else tuple(row)

    # -- sign-in lookups ------------------------------------------------------------------
    def person_by_email(self, email: str) -> str | None:
        """The user code of the registered, not erased person with this email (any case)."""
        row = self._first(
            "SELECT user_code FROM people WHERE email = ? COLLATE NOCASE"
            " AND registered_at IS NOT NULL AND erased_at IS NULL ORDER BY id LIMIT 1",
            (email.strip(),),
        )
        return None if row is None else str(row[0])

    def business_by_email(self, email: str) -> tuple[int, str] | None:
        """(id, name) of the business whose contact email this is."""
        row = self._first(
            "SELECT id, name FROM businesses WHERE email = ? COLLATE NOCASE ORDER BY id LIMIT 1",
            (email.strip(),),
        )
        return None if row is None else (int(str(row[0])), str(row[1]))

    # -- businesses -----------------------------------------------------------------------
    def signup_business(
        self,
        name: str,
        fields: Mapping[str, str | None],
        password: str,
        *,
        pending: bool,
        now: datetime,
    ) -> int:
        """Create a business with its contact fields and password; return its id.

        Every field is validated first; `Conflict` when the name or the email is taken.
        """
        name = name.strip()
        if not 1 <= len(name) <= 80 or not name.isprintable():
            raise InvalidInput("name: expected 1-80 printable characters")
        values = {k: validate_field(k, fields.get(k)) for k in BUSINESS_FIELDS}
        for required in BUSINESS_FIELDS:
            if not values[required]:
                raise InvalidInput(f"{required}: required")
        secret = hash_password(password)
        with self.core.transaction() as db:
            email = str(values["email"])
            if self.business_by_email(email) is not None:
                raise Conflict("email: a business with this email already exists")
            if self._first("SELECT 1 FROM businesses WHERE name = ?", (name,)) is not None:
                raise Conflict("name: a business with this name already exists")
            cur = db.execute(
                "INSERT INTO businesses (name, first_name, surname, email, sector, password_hash,"
                " created_at, pending) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (name, values["first_name"], values["surname"], email, values["sector"],
                 secret, to_ts(now), int(pending)),
            )  # fmt: skip
            return int(cur.lastrowid or 0)

    def approve(self, name: str) -> bool:
        """Make a pending business live; False when it was live already."""
        with self.core.transaction() as db:
            row = self._first("SELECT id, pending FROM businesses WHERE name = ?", (name.strip(),))
            if row is None:
                raise NotFound(f"no business {name.strip()!r}")
            db.execute("UPDATE businesses SET pending = 0 WHERE id = ?", (row[0],))
            return bool(row[1])

    def is_pending(self, business_id: int) -> bool:
        """True while the business awaits the operator's approval."""
        row = self._first("SELECT pending FROM businesses WHERE id = ?", (business_id,))
        if row is None:
            raise NotFound(f"no business {business_id}")
        return bool(row[0])

    def _own_code(self, business_id: int, keyword: str) -> int:
        row = self._first(
            "SELECT id FROM codes WHERE keyword = ? AND business_id = ?",
            (keyword.strip().upper(), business_id),
        )
        if row is None:
            raise NotFound(f"no code {keyword.strip().upper()!r}")
        return int(str(row[0]))

    def edit_code(
        self, business_id: int, keyword: str, reply: str, description: str | None
    ) -> None:
        """Change the reply text (placeholders checked) and description of an own code."""
        text = check_placeholders(reply)
        about = (description or "").strip() or None
        if about is not None and len(about) > 200:
            raise InvalidInput("description: at most 200 characters")
        with self.core.transaction() as db:
            code_id = self._own_code(business_id, keyword)
            db.execute(
                "UPDATE codes SET reply = ?, description = ? WHERE id = ?", (text, about, code_id)
            )

    def pause_code(self, business_id: int, keyword: str, paused: bool) -> None:
        """Pause or resume an own code."""
        with self.core.transaction() as db:
            code_id = self._own_code(business_id, keyword)
            db.execute("UPDATE codes SET paused = ? WHERE id = ?", (int(paused), code_id))

    def counts_since(self, business_id: int, since: datetime) -> dict[str, int]:
        """{'requests': n, 'optins': n} since `since`, from the privacy views."""
        at = to_ts(since)
        requests = self._first(
            "SELECT count(*) FROM request_keys WHERE business_id = ? AND at >= ?",
            (business_id, at),
        )
        optins = self._first(
            "SELECT count(*) FROM optin_keys WHERE business_id = ? AND kind = 'in' AND at >= ?",
            (business_id, at),
        )
        assert requests is not None and optins is not None
        return {"requests": int(str(requests[0])), "optins": int(str(optins[0]))}

    def callers(
        self,
        business_id: int,
        *,
        code_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[tuple[str, str, int, datetime]]:
        """(user code, keyword, times requested, last time) per caller and code, latest first.

        Groups the business's requests over its covering index (privacy views only), then
        names the page's callers and codes.
        """
        where = " WHERE business_id = ?"
        params: list[int | str] = [business_id]
        for clause, value in (
            (" AND code_id = ?", code_id),
            (" AND at >= ?", None if since is None else to_ts(since)),
            (" AND at < ?", None if until is None else to_ts(until)),
        ):
            if value is not None:
                where += clause
                params.append(value)
        with self.core.transaction(write=False) as db:
            rows = db.conn.execute(
                "SELECT p.user_code, c.keyword, g.n, g.last FROM (SELECT person_id, code_id,"  # noqa: S608
                " count(*) AS n, max(at) AS last FROM request_keys"
                + where
                + " GROUP BY person_id, code_id ORDER BY last DESC LIMIT ? OFFSET ?) g"
                " JOIN person_facts p ON p.person_id = g.person_id JOIN codes c ON c.id = g.code_id"
                " ORDER BY g.last DESC",
                (*params, limit, offset),
            ).fetchall()
        return [(str(r[0]), str(r[1]), int(r[2]), from_ts(r[3]) or datetime.min) for r in rows]

    def recent_optins(self, business_id: int, limit: int = 10) -> list[tuple[str, str, datetime]]:
        """The latest opt-ins and opt-outs as (user code, 'in'/'out', time), newest first."""
        with self.core.transaction(write=False) as db:
            rows = db.conn.execute(
                "SELECT user_code, kind, at FROM business_optins WHERE business_id = ?"
                " ORDER BY at DESC, event_id DESC LIMIT ?",
                (business_id, limit),
            ).fetchall()
        return [(str(r[0]), str(r[1]), from_ts(r[2]) or datetime.min) for r in rows]

    # -- people ---------------------------------------------------------------------------
    def user_code_of(self, person_id: int) -> str:
        """The user code of a person who is not erased; `NotFound` otherwise."""
        row = self._first(
            "SELECT user_code FROM people WHERE id = ? AND erased_at IS NULL", (person_id,)
        )
        if row is None:
            raise NotFound("no such person")
        return str(row[0])

    def ledger(self, person_id: int) -> list[OptinLine]:
        """Each business in the person's opt-in ledger, by name, with its latest state."""
        with self.core.transaction(write=False) as db:
            rows = db.conn.execute(
                "SELECT e.business_id, b.name, e.kind, e.at, (SELECT min(at) FROM optin_events x"
                "  WHERE x.person_id = e.person_id AND x.business_id = e.business_id"
                "  AND x.kind = 'in') FROM optin_events e JOIN businesses b"
                " ON b.id = e.business_id WHERE e.person_id = ?1 AND e.id = (SELECT max(id)"
                " FROM optin_events WHERE person_id = ?1 AND business_id = e.business_id)"
                " ORDER BY b.name",
                (person_id,),
            ).fetchall()
        lines = []
        for r in rows:
            since = from_ts(r[3])
            assert since is not None
            lines.append(OptinLine(int(r[0]), str(r[1]), r[2] == "in", since, from_ts(r[4])))
        return lines

    def web_opt(
        self, person_id: int, business_id: int, kind: Literal["in", "out"], *, now: datetime
    ) -> bool:
        """Record an opt-out or opt-in made on the web (channel 'web'); False if no change.

        Only a business already in the person's ledger can be left or rejoined.
        """
        with self.core.transaction() as db:
            line = next((x for x in self.ledger(person_id) if x.business_id == business_id), None)
            if line is None:
                raise NotFound("that business is not in your history")
            if line.opted_in == (kind == "in"):
                return False
            db.execute(
                "INSERT INTO optin_events (person_id, business_id, kind, at, keyword, channel)"
                " VALUES (?, ?, ?, ?, NULL, 'web')",
                (person_id, business_id, kind, to_ts(now)),
            )
            return True
