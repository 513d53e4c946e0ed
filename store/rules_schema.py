"""The small SQL helpers the messaging-rules parts share (schema: migration 006_rules).

Tables (migration 006): `business_policy` (double opt-in, stated frequency),
`optin_pending` (double opt-ins waiting for YES, kept after confirmation), `gateway_consent`
(STOP/START with no code, keyed by phone so an opt-out from a number we never answered still
counts), `polls` and `poll_votes` (one row per person and poll), `scheduled_broadcasts`,
`retired_codes`; and a `channel` column on `optin_events` (NULL reads as 'sms' with an
incoming message, else 'operator').
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from store.backend import Connection, Cursor
from store.base import from_ts
from store.rules_models import Poll

__all__ = ["Core", "Handle", "poll_from_row", "query", "write"]


class Handle(Protocol):
    """The connection handle a store transaction yields (only its connection is used)."""

    @property
    def conn(self) -> Connection: ...


class Core(Protocol):
    """What a rules part needs of the store: its transactions."""

    def transaction(self, *, write: bool = True) -> AbstractContextManager[Handle]: ...


def query(core: Core, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Rows as dicts, in (or joining) a read transaction (one statement, no SAVEPOINT)."""
    with core.transaction(write=False) as db:
        cur = db.conn.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def write(core: Core, sql: str, params: Sequence[Any] = ()) -> Cursor:
    """One write statement in (or joining) a write transaction."""
    with core.transaction() as db:
        return db.conn.execute(sql, params)


def poll_from_row(row: dict[str, Any]) -> Poll:
    """A `Poll` from a row of `polls` columns plus `business_id` and `keyword`."""
    created = from_ts(row["created_at"])
    assert created is not None
    return Poll(
        id=int(row["id"]),
        code_id=int(row["code_id"]),
        business_id=int(row["business_id"]),
        keyword=str(row["keyword"]),
        options=tuple(json.loads(row["options"])),
        created_at=created,
        closes_at=from_ts(row["closes_at"]),
        closed_at=from_ts(row["closed_at"]),
    )
