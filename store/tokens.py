"""API bearer tokens and idempotency keys (`store.tokens`).

A token is `smsa_` + 43 URL-safe characters (256 random bits), shown once. Only its SHA-256 is
stored (a random 256-bit secret needs no slow hash): lookup is by that hash, and the stored
hash is compared again in constant time. A business token reads (`read`) or also queues
broadcasts (`write`) for its business only; the operator's token (`operator`) sends messages
and reads modems. Revoking is immediate. The last use is recorded (at most once a minute, so
reads stay reads).

Idempotency keys remember the first response to a POST per owner and key, so a client that
retries gets the same answer and nothing is queued twice; a key reused with another body is
refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from store.base import Part, StoreBase, from_ts, to_ts
from store.directory import Directory
from store.errors import Conflict, InvalidInput, NotFound

__all__ = ["TOKEN_PREFIX", "Scope", "Stored", "Token", "Tokens", "token_hash"]

TOKEN_PREFIX = "smsa_"  # noqa: S105 - a public prefix, not a secret
Scope = Literal["read", "write", "operator"]
_TOUCH_EVERY = timedelta(minutes=1)


def token_hash(secret: str) -> str:
    """SHA-256 hex of a token, as stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Token:
    """A token as listed (never the secret): its scope, business and uses."""

    id: int
    business_id: int | None
    business: str | None
    scope: Scope
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class Stored:
    """The first response to an idempotent request: status and JSON body."""

    status: int
    body: dict[str, Any]


_SELECT = (
    "SELECT t.id, t.business_id, b.name, t.scope, t.prefix, t.created_at, t.last_used_at,"
    " t.revoked_at, t.token_hash FROM api_tokens t LEFT JOIN businesses b ON b.id = t.business_id"
)


def _token(row: Any) -> Token:
    created = from_ts(row[5])
    assert created is not None
    return Token(
        int(row[0]), row[1], row[2], row[3], str(row[4]), created, from_ts(row[6]),
        from_ts(row[7]),
    )  # fmt: skip


class Tokens(Part):
    """Creating, checking, listing and revoking tokens; idempotency keys (`store.tokens`)."""

    def __init__(self, core: StoreBase, directory: Directory) -> None:
        super().__init__(core)
        self._directory = directory

    def create(
        self, business: int | str | None, scope: Scope, *, now: datetime
    ) -> tuple[Token, str]:
        """A new token for `business` (None and scope 'operator': the operator's)."""
        if (business is None) != (scope == "operator"):
            raise InvalidInput("an operator token has no business; a business token needs one")
        if scope not in ("read", "write", "operator"):
            raise InvalidInput(f"scope must be read, write or operator, not {scope!r}")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.core.transaction() as db:
            owner = None if business is None else self._directory.get_business(business).id
            cur = db.execute(
                "INSERT INTO api_tokens (business_id, scope, token_hash, prefix, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (owner, scope, token_hash(secret), secret[:9], to_ts(now)),
            )
            token = self.get(int(cur.lastrowid or 0))
        return token, secret

    def get(self, token_id: int) -> Token:
        """One token by id; `NotFound` otherwise."""
        with self.core.transaction(write=False) as db:
            row = db.conn.execute(_SELECT + " WHERE t.id = ?", (token_id,)).fetchone()
        if row is None:
            raise NotFound(f"no token {token_id}")
        return _token(row)

    def authenticate(self, secret: str, *, now: datetime) -> Token | None:
        """The live token whose secret this is (recording the use), else None."""
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
            return None
        digest = token_hash(secret)
        with self.core.transaction(write=False) as db:
            row = db.conn.execute(_SELECT + " WHERE t.token_hash = ?", (digest,)).fetchone()
        if row is None or not hmac.compare_digest(str(row[8]), digest) or row[7] is not None:
            return None
        token = _token(row)
        if token.last_used_at is None or now - token.last_used_at >= _TOUCH_EVERY:
            with self.core.transaction() as db:
                db.execute(
                    "UPDATE api_tokens SET last_used_at = ? WHERE id = ?", (to_ts(now), token.id)
                )
        return token

    def list(self, business: int | str | None = None) -> list[Token]:
        """Tokens (of one business when given), revoked ones included, oldest first."""
        sql, params = _SELECT, []
        if business is not None:
            sql += " WHERE t.business_id = ?"
            params.append(self._directory.get_business(business).id)
        with self.core.transaction(write=False) as db:
            rows = db.conn.execute(sql + " ORDER BY t.id", params).fetchall()
        return [_token(r) for r in rows]

    def revoke(self, token_id: int, *, now: datetime) -> Token:
        """Revoke a token at once; `NotFound` if there is no live token with this id."""
        with self.core.transaction() as db:
            cur = db.execute(
                "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                (to_ts(now), token_id),
            )
            if cur.rowcount != 1:
                raise NotFound(f"no live token {token_id}")
            return self.get(token_id)

    def recall(self, owner: str, key: str, request_hash: str) -> Stored | None:
        """The stored response for (owner, key); `Conflict` if the key came with another body."""
        with self.core.transaction(write=False) as db:
            row = db.conn.execute(
                "SELECT request_hash, status, response FROM api_idempotency"
                " WHERE owner = ? AND key = ?",
                (owner, key),
            ).fetchone()
        if row is None:
            return None
        if not hmac.compare_digest(str(row[0]), request_hash):
            raise Conflict(f"idempotency key {key!r} was used with a different request")
        return Stored(int(row[1]), json.loads(row[2]))

    def remember(
        self, owner: str, key: str, request_hash: str, stored: Stored, *, now: datetime
    ) -> None:
        """Keep the response for (owner, key), in the caller's transaction."""
        with self.core.transaction() as db:
            db.execute(
                "INSERT INTO api_idempotency (owner, key, request_hash, status, response,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (owner, key, request_hash, stored.status, json.dumps(stored.body), to_ts(now)),
            )
