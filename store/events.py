"""Events for webhooks, and the queue of their deliveries (`store.events`).

Most events are written by the triggers of migration 020 (`store.integrations_schema`), in the
transaction of the row that caused them. `emit` writes one from Python, inside the caller's
transaction, for events no table change implies (the modem helper's `balance.low`, say). An
event is kept only for a scope that has a webhook; each becomes one delivery per webhook.

Deliveries are at least once: a delivery stays 'pending' until a receiver answered 2xx, so a
process killed mid-delivery sends it again after a restart, with the same `webhook-id` (the
event's uid). One process delivers per database, the holder of the lease (`hold_lease`; the
web server may run several worker processes); it keeps its in-flight ids to itself.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from store.base import Part, StoreBase, from_ts, to_ts
from store.errors import InvalidInput
from store.integrations_schema import EVENT_KINDS

__all__ = ["Backlog", "Delivery", "Events", "Outcome", "emit"]


def emit(core: StoreBase, kind: str, business_id: int | None, payload: Mapping[str, Any]) -> int:
    """Record event `kind` for a business (or the operator: None) in the current transaction.

    Returns how many webhooks will receive it (0: nobody subscribed, nothing was kept).
    Business-scoped payloads must carry user codes, never phone numbers: callers pass ids,
    codes, counts and times only.
    """
    scoped = EVENT_KINDS.get(kind)
    if scoped is None:
        raise InvalidInput(f"unknown event kind {kind!r}")
    if scoped != (business_id is not None):
        raise InvalidInput(f"{kind} is {'a business' if scoped else 'an operator'} event")
    body = json.dumps(dict(payload), sort_keys=True, default=str)
    with core.transaction() as db:
        cur = db.execute(
            "INSERT INTO events (kind, business_id, payload) SELECT ?1, ?2, ?3 WHERE EXISTS"
            " (SELECT 1 FROM webhooks WHERE business_id IS ?2 AND removed_at IS NULL)",
            (kind, business_id, body),
        )
        if not cur.rowcount:
            return 0
        row = db.execute(
            "SELECT count(*) FROM webhook_deliveries WHERE event_id = ?", (cur.lastrowid,)
        ).fetchone()
        return int(row[0])


@dataclass(frozen=True)
class Delivery:
    """One event on its way to one webhook, with what signing and sending it needs."""

    id: int
    event_uid: str
    kind: str
    business_id: int | None
    payload: str
    event_at: datetime
    webhook_id: int
    url: str
    secret: str
    attempts: int
    window_start: datetime

    def body(self) -> bytes:
        """The JSON body: the same bytes on every attempt (`{type, timestamp, data}`)."""
        text = (
            f'{{"type":{json.dumps(self.kind)},"timestamp":{json.dumps(self.event_at.isoformat())}'
            f',"data":{self.payload}}}'
        )
        return text.encode()


@dataclass(frozen=True)
class Outcome:
    """What one attempt did: delivered (`ok`), or failed and due again (None: parked failed)."""

    delivery_id: int
    ok: bool
    status: int | None = None
    error: str | None = None
    next_attempt_at: datetime | None = None


@dataclass(frozen=True)
class Backlog:
    """Deliveries pending and parked as failed, and the oldest pending one's event time."""

    pending: int
    failed: int
    oldest_pending: datetime | None


_DUE_SQL = (
    "SELECT d.id, e.uid, e.kind, e.business_id, e.payload, e.created_at, d.webhook_id, w.url,"
    " w.secret, d.attempts, d.window_start FROM webhook_deliveries d"
    " JOIN events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id"
    " WHERE d.state = 'pending' AND d.next_attempt_at <= ? AND w.removed_at IS NULL"
    " ORDER BY d.next_attempt_at, d.id LIMIT ?"
)


def _delivery(row: Sequence[Any]) -> Delivery:
    event_at, window = from_ts(row[5]), from_ts(row[10])
    assert event_at is not None and window is not None
    return Delivery(
        int(row[0]), str(row[1]), str(row[2]), row[3], str(row[4]), event_at,
        int(row[6]), str(row[7]), str(row[8]), int(row[9]), window,
    )  # fmt: skip


class Events(Part):
    """The delivery queue (`store.events`): what is due, what each attempt did, the backlog."""

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self.core.transaction(write=False) as db:
            return db.conn.execute(sql, params).fetchall()

    def due(self, now: datetime, *, limit: int = 100, busy: Collection[int] = ()) -> list[Delivery]:
        """Pending deliveries due by `now`, oldest first, leaving out the ids in `busy`."""
        rows = self._all(_DUE_SQL, (to_ts(now), limit + len(busy)))
        return [d for d in map(_delivery, rows) if d.id not in busy][:limit]

    def next_due_at(self) -> datetime | None:
        """When the earliest pending delivery (of a live webhook) is due; None when none."""
        rows = self._all(
            "SELECT min(d.next_attempt_at) FROM webhook_deliveries d JOIN webhooks w"
            " ON w.id = d.webhook_id WHERE d.state = 'pending' AND w.removed_at IS NULL"
        )
        return from_ts(rows[0][0])

    def record(self, outcomes: Sequence[Outcome], now: datetime) -> None:
        """Write what a batch of attempts did, in one transaction."""
        stamp = to_ts(now)
        with self.core.transaction() as db:
            for o in outcomes:
                if o.ok:
                    state, due = "delivered", None
                elif o.next_attempt_at is None:
                    state, due = "failed", None
                else:
                    state, due = "pending", to_ts(o.next_attempt_at)
                db.execute(
                    "UPDATE webhook_deliveries SET state = ?, attempts = attempts + 1,"
                    " last_attempt_at = ?, last_status = ?, last_error = ?,"
                    " next_attempt_at = coalesce(?, next_attempt_at),"
                    " delivered_at = CASE WHEN ? = 'delivered' THEN ? END WHERE id = ?",
                    (state, stamp, o.status, o.error, due, state, stamp, o.delivery_id),
                )

    def backlog(self) -> Backlog:
        """Counts of pending and failed deliveries, and the oldest pending event's time."""
        rows = self._all(
            "SELECT (SELECT count(*) FROM webhook_deliveries WHERE state = 'pending'),"
            " (SELECT count(*) FROM webhook_deliveries WHERE state = 'failed'),"
            " (SELECT min(window_start) FROM webhook_deliveries WHERE state = 'pending')"
        )
        pending, failed, oldest = rows[0]
        return Backlog(int(pending), int(failed), from_ts(oldest))

    def deliveries(self, *, event_kind: str | None = None) -> list[dict[str, Any]]:
        """Every delivery with its event's kind, uid and state, oldest first (for tests/CLI)."""
        sql = (
            "SELECT d.id, d.webhook_id, e.uid, e.kind, e.business_id, d.state, d.attempts,"
            " d.last_status, d.last_error FROM webhook_deliveries d JOIN events e"
            " ON e.id = d.event_id"
        )
        params: tuple[Any, ...] = ()
        if event_kind is not None:
            sql += " WHERE e.kind = ?"
            params = (event_kind,)
        names = ("id", "webhook_id", "uid", "kind", "business_id", "state", "attempts",
                 "last_status", "last_error")  # fmt: skip
        return [dict(zip(names, r, strict=True)) for r in self._all(sql + " ORDER BY d.id", params)]

    def hold_lease(self, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Take or renew the right to deliver (one process per database); True if held.

        A lease not renewed within `ttl` (its holder died) passes to the next to ask.
        """
        with self.core.transaction() as db:
            db.execute(
                "INSERT INTO webhook_lease (id, holder, expires_at) VALUES (1, ?1, ?2)"
                " ON CONFLICT (id) DO UPDATE SET holder = ?1, expires_at = ?2"
                " WHERE webhook_lease.holder = ?1 OR webhook_lease.expires_at < ?3",
                (holder, to_ts(now + ttl), to_ts(now)),
            )
            row = db.conn.execute("SELECT holder FROM webhook_lease WHERE id = 1").fetchone()
        return row is not None and row[0] == holder

    def release_lease(self, holder: str) -> None:
        """Give the lease up at once (a clean stop), if `holder` has it."""
        with self.core.transaction() as db:
            db.execute("DELETE FROM webhook_lease WHERE id = 1 AND holder = ?", (holder,))

    def prune(self, before: datetime) -> int:
        """Delete events older than `before` all of whose deliveries were delivered."""
        with self.core.transaction() as db:
            cur = db.execute(
                "DELETE FROM events WHERE created_at < ? AND NOT EXISTS (SELECT 1 FROM"
                " webhook_deliveries d WHERE d.event_id = events.id AND d.state != 'delivered')",
                (to_ts(before),),
            )
            return cur.rowcount
