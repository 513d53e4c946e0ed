"""The portal's security state: server-side sessions, sign-in throttling, texted codes.

`WebSessions` is a store part (it takes the store core and speaks SQL through it). Secrets
never rest in the database in the clear: a session id and a texted code are stored as their
SHA-256, and compared in constant time by looking the hash up (the id carries 256 random bits).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from store.base import Part, from_ts, to_ts
from store.errors import InvalidInput

__all__ = ["CodeCheck", "Session", "SessionKind", "Throttle", "WebSessions", "digest"]

SessionKind = Literal["person", "business", "signup", "reset"]
CodeCheck = Literal["ok", "wrong", "expired", "exhausted"]
_CODE_TRIES = 5


def digest(secret: str) -> str:
    """The stored form of a session id or a texted code."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    """A live session: who (`kind`, `subject` id), its CSRF token and when it began."""

    id_hash: str
    kind: SessionKind
    subject: int
    csrf: str
    created_at: datetime
    seen_at: datetime


@dataclass(frozen=True)
class Throttle:
    """Sign-in failures counted for one key, and until when it is locked (None: not locked)."""

    key: str
    failures: int
    locked_until: datetime | None


class WebSessions(Part):
    """Sessions, throttling and one-time codes, over the store core's connection."""

    # -- sessions -------------------------------------------------------------------------
    def create(self, kind: SessionKind, subject: int, *, now: datetime) -> tuple[str, Session]:
        """A new session; returns (the cookie value, the stored session)."""
        sid = secrets.token_urlsafe(32)
        session = Session(digest(sid), kind, subject, secrets.token_urlsafe(32), now, now)
        with self.core.transaction() as db:
            db.execute(
                "INSERT INTO web_sessions (id_hash, kind, subject, csrf, created_at, seen_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (session.id_hash, kind, subject, session.csrf, to_ts(now), to_ts(now)),
            )
        return sid, session

    def load(
        self, sid: str, *, now: datetime, idle: timedelta, absolute: timedelta
    ) -> Session | None:
        """The session for cookie value `sid`, or None (unknown, idle too long, too old).

        An expired session is deleted; a live one is touched (at most once a minute).
        """
        if not sid or len(sid) > 100:
            return None
        key = digest(sid)
        with self.core.transaction(write=False) as db:
            row = db.conn.execute(
                "SELECT kind, subject, csrf, created_at, seen_at FROM web_sessions"
                " WHERE id_hash = ?",
                (key,),
            ).fetchone()
        if row is None:
            return None
        created, seen = from_ts(row[3]), from_ts(row[4])
        assert created is not None and seen is not None
        if now - seen > idle or now - created > absolute:
            self.end(key)
            return None
        if now - seen > timedelta(minutes=1):
            with self.core.transaction() as db:
                db.execute(
                    "UPDATE web_sessions SET seen_at = ? WHERE id_hash = ?", (to_ts(now), key)
                )
            seen = now
        return Session(key, row[0], int(row[1]), row[2], created, seen)

    def end(self, id_hash: str) -> None:
        """End one session (by its stored hash)."""
        with self.core.transaction() as db:
            db.execute("DELETE FROM web_sessions WHERE id_hash = ?", (id_hash,))

    def end_all(self, kind: SessionKind, subject: int) -> int:
        """End every session of one account (password change, sign-out everywhere, erasure)."""
        with self.core.transaction() as db:
            return db.execute(
                "DELETE FROM web_sessions WHERE kind = ? AND subject = ?", (kind, subject)
            ).rowcount

    def purge(self, *, now: datetime, idle: timedelta, absolute: timedelta) -> int:
        """Delete expired sessions and stale throttle rows; how many sessions went."""
        with self.core.transaction() as db:
            gone = db.execute(
                "DELETE FROM web_sessions WHERE seen_at < ? OR created_at < ?",
                (to_ts(now - idle), to_ts(now - absolute)),
            ).rowcount
            db.execute(
                "DELETE FROM web_throttle WHERE updated_at < ? AND"
                " (locked_until IS NULL OR locked_until < ?)",
                (to_ts(now - timedelta(days=1)), to_ts(now)),
            )
        return int(gone)

    # -- throttling ------------------------------------------------------------------------
    def throttle(self, key: str) -> Throttle:
        """The failures counted for `key` (zero when none)."""
        with self.core.transaction(write=False) as db:
            row = db.conn.execute(
                "SELECT failures, locked_until FROM web_throttle WHERE key = ?", (key,)
            ).fetchone()
        if row is None:
            return Throttle(key, 0, None)
        return Throttle(key, int(row[0]), from_ts(row[1]))

    def fail(
        self, key: str, *, now: datetime, free: int, base: timedelta, cap: timedelta
    ) -> Throttle:
        """Count one failure; from the `free`-th on, lock for `base` doubling up to `cap`."""
        with self.core.transaction():
            failures = self.throttle(key).failures + 1
            locked = None
            if failures >= free:
                locked = now + min(cap, base * (2 ** (failures - free)))
            with self.core.transaction() as db:
                db.execute(
                    "INSERT INTO web_throttle (key, failures, locked_until, updated_at)"
                    " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (key) DO UPDATE SET failures = ?2,"
                    " locked_until = ?3, updated_at = ?4",
                    (key, failures, None if locked is None else to_ts(locked), to_ts(now)),
                )
        return Throttle(key, failures, locked)

    def clear(self, key: str) -> None:
        """Forget the failures of `key` (after a successful sign-in)."""
        with self.core.transaction() as db:
            db.execute("DELETE FROM web_throttle WHERE key = ?", (key,))

    # -- one-time codes ----------------------------------------------------------------------
    def issue_code(
        self, person_id: int, purpose: Literal["signup", "reset"], *, now: datetime, ttl: timedelta
    ) -> str:
        """A fresh 6-digit code for `person_id`; earlier unused codes of that purpose die."""
        code = f"{secrets.randbelow(1_000_000):06d}"
        with self.core.transaction() as db:
            db.execute(
                "UPDATE web_codes SET used_at = ? WHERE person_id = ? AND purpose = ?"
                " AND used_at IS NULL",
                (to_ts(now), person_id, purpose),
            )
            db.execute(
                "INSERT INTO web_codes (person_id, purpose, code_hash, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (person_id, purpose, digest(code), to_ts(now), to_ts(now + ttl)),
            )
        return code

    def codes_since(self, person_id: int, since: datetime) -> int:
        """How many codes were texted to this person since `since` (sending is capped)."""
        with self.core.transaction(write=False) as db:
            row = db.conn.execute(
                "SELECT count(*) FROM web_codes WHERE person_id = ? AND created_at >= ?",
                (person_id, to_ts(since)),
            ).fetchone()
        return int(row[0])

    def check_code(
        self, person_id: int, purpose: Literal["signup", "reset"], code: str, *, now: datetime
    ) -> CodeCheck:
        """Use up the live code if `code` matches; count a wrong try (five per code)."""
        if not code.strip().isdigit():
            raise InvalidInput("code: expected the digits texted to you")
        with self.core.transaction() as db:
            row = db.conn.execute(
                "SELECT id, code_hash, expires_at, attempts FROM web_codes WHERE person_id = ?"
                " AND purpose = ? AND used_at IS NULL ORDER BY id DESC LIMIT 1",
                (person_id, purpose),
            ).fetchone()
            if row is None:
                return "expired"
            if row[3] >= _CODE_TRIES:
                return "exhausted"
            if str(row[2]) < to_ts(now):
                return "expired"
            if not hmac.compare_digest(str(row[1]), digest(code.strip())):
                db.execute("UPDATE web_codes SET attempts = attempts + 1 WHERE id = ?", (row[0],))
                return "wrong"
            db.execute("UPDATE web_codes SET used_at = ? WHERE id = ?", (to_ts(now), row[0]))
            return "ok"
