"""The transactional outbox: queue, claim, send results, retries and status reports.

A row is 'queued' until a sender thread claims it ('sending'), then 'sent' with the modem's
TP-MR, then 'delivered' or 'failed' by status report. A process that dies while a row is
'sending' cannot know whether the SMS left; `requeue_stale_claims` at start puts such rows
back in the queue: the one duplicate the design allows, rather than a lost message.
"""

from __future__ import annotations

import builtins
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from store.base import Part, from_ts, to_ts
from store.errors import InvalidInput, NotFound

if TYPE_CHECKING:  # the row type is built on first use (see `_outgoing`)
    from store.models_outbox import Outgoing, OutgoingKind

__all__ = ["Outbox", "preference_clause"]


def preference_clause(modem: str, healthy: Collection[str] | None) -> tuple[str, list[Any]]:
    """SQL (over alias `o` of outgoing) selecting rows `modem` may send, with its parameters.

    A row may go out through `modem` when its business has no preferred modem, prefers this
    one, or prefers one that is not healthy now. `healthy` None means "do not filter".
    """
    if healthy is None:
        return "1 = 1", []
    return (
        "(o.business_id IS NULL OR NOT EXISTS (SELECT 1 FROM businesses b"
        " WHERE b.id = o.business_id AND b.modem IS NOT NULL AND b.modem <> ?"
        " AND b.modem IN (SELECT value FROM json_each(?))))",
        [modem, _json_list(sorted(healthy))],
    )


def _outgoing(row: dict[str, Any]) -> Outgoing:
    # Start-up cost: the dataclass is created when a row is first read; `smsd send` queues
    # one and reads none.
    from store.models_outbox import Outgoing

    created = from_ts(row["created_at"])
    assert created is not None
    return Outgoing(
        id=row["id"],
        recipient=row["recipient"],
        text=row["text"],
        kind=row["kind"],
        business_id=row["business_id"],
        incoming_id=row["incoming_id"],
        person_id=row["person_id"],
        state=row["state"],
        created_at=created,
        attempts=row["attempts"],
        next_attempt_at=from_ts(row["next_attempt_at"]),
        claimed_at=from_ts(row["claimed_at"]),
        modem=row["modem"],
        mr=row["mr"],
        sent_at=from_ts(row["sent_at"]),
        delivered_at=from_ts(row["delivered_at"]),
        error=row["error"],
        parts=row["parts"],
        claimed_by=row["claimed_by"],
    )


def _json_list(items: list[str]) -> str:
    # Start-up cost: json only where a claim needs it; `smsd send` loads this module without.
    import json

    return json.dumps(items)


class Outbox(Part):
    """Outgoing messages (`store.outbox`)."""

    def queue_outgoing(
        self,
        recipient: str,
        text: str,
        kind: OutgoingKind,
        *,
        now: datetime,
        business_id: int | None = None,
        incoming_id: int | None = None,
        person_id: int | None = None,
        not_before: datetime | None = None,
    ) -> int:
        """Queue a message (due at `not_before`, default now); return its id."""
        if not text:
            raise InvalidInput("outgoing text must not be empty")
        with self.core.transaction() as db:
            cur = db.execute(
                "INSERT INTO outgoing (recipient, text, kind, business_id, incoming_id, person_id,"
                " state, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?)",
                (
                    recipient,
                    text,
                    kind,
                    business_id,
                    incoming_id,
                    person_id,
                    to_ts(now),
                    to_ts(not_before or now),
                ),
            )
            return int(cur.lastrowid or 0)

    def claim_next_outgoing(
        self, modem: str, now: datetime, healthy: Collection[str] | None = None
    ) -> Outgoing | None:
        """Take the oldest due queued message for `modem` to send (state -> 'sending').

        With `healthy` (the modems up now), a message whose business prefers another healthy
        modem is left for that one (see `store.modems.preference_clause`).
        """
        clause, params = preference_clause(modem, healthy)
        # PostgreSQL: a row another host is claiming right now is skipped, not waited for.
        skip = " FOR UPDATE OF o SKIP LOCKED" if self.core.dialect == "postgresql" else ""
        with self.core.transaction() as db:
            rows = list(
                db.query(
                    "SELECT o.id FROM outgoing o WHERE o.state = 'queued'"  # noqa: S608
                    f" AND o.next_attempt_at <= ? AND {clause}"
                    f" ORDER BY o.next_attempt_at, o.id LIMIT 1{skip}",
                    (to_ts(now), *params),
                )
            )
            if not rows:
                return None
            db.execute(
                "UPDATE outgoing SET state = 'sending', claimed_at = ?, modem = ?,"
                " claimed_by = ?, attempts = attempts + 1 WHERE id = ?",
                (to_ts(now), modem, self.core.host, rows[0]["id"]),
            )
            return self.get_outgoing(int(rows[0]["id"]))

    def requeue_stale_claims(self) -> int:
        """Put this host's 'sending' rows back in the queue (call once at start); the count.

        Rows claimed by other hosts are theirs until `reclaim_expired` finds them too old.
        """
        cur = self._execute(
            "UPDATE outgoing SET state = 'queued', claimed_at = NULL, claimed_by = NULL"
            " WHERE state = 'sending' AND (claimed_by IS NULL OR claimed_by = ?)",
            (self.core.host,),
        )
        return cur.rowcount

    def reclaim_expired(self, now: datetime, timeout: timedelta) -> int:
        """Requeue 'sending' rows of any host claimed before `now - timeout` (a dead host's).

        `timeout` must be longer than the slowest part a live send waits for (the sender renews
        its claim after each part, `renew_claim`; the configuration checks this against every
        modem's ``send_timeout``), or a slow send goes out twice; the count of rows requeued is
        returned.
        """
        cutoff = to_ts(now - timeout)
        if (
            self._one(
                "SELECT 1 AS x FROM outgoing WHERE state = 'sending' AND claimed_at < ? LIMIT 1",
                (cutoff,),
            )
            is None
        ):
            return 0  # the usual case: a read, no write transaction
        cur = self._execute(
            "UPDATE outgoing SET state = 'queued', claimed_at = NULL, claimed_by = NULL"
            " WHERE state = 'sending' AND claimed_at < ?",
            (cutoff,),
        )
        return cur.rowcount

    def renew_claim(self, outgoing_id: int, now: datetime) -> bool:
        """Move this host's claim on a row it is still sending to `now` (a lease, renewed after
        each part, so `reclaim_expired` takes only a claim that made no progress for its whole
        timeout). False when the claim is gone: requeued as expired, or another host's now.
        """
        cur = self._execute(
            "UPDATE outgoing SET claimed_at = ? WHERE id = ? AND state = 'sending'"
            " AND claimed_by = ?",
            (to_ts(now), outgoing_id, self.core.host),
        )
        return cur.rowcount == 1

    def mark_sent(
        self, outgoing_id: int, mr: int, modem: str, now: datetime, *, parts: int = 1
    ) -> None:
        """Record that the modem accepted the message; `mr` is the (last part's) TP-MR."""
        self._transition(
            outgoing_id,
            "UPDATE outgoing SET state = 'sent', mr = ?, modem = ?, sent_at = ?, parts = ?,"
            " error = NULL WHERE id = ?",
            (mr % 256, modem, to_ts(now), parts, outgoing_id),
        )

    def mark_failed(self, outgoing_id: int, reason: str) -> None:
        """Give up on a message (permanent error or attempts exhausted)."""
        self._transition(
            outgoing_id,
            "UPDATE outgoing SET state = 'failed', error = ? WHERE id = ?",
            (reason, outgoing_id),
        )

    def retry_later(self, outgoing_id: int, error: str, next_at: datetime) -> None:
        """Put a message back in the queue, due at `next_at`, remembering the error."""
        self._transition(
            outgoing_id,
            "UPDATE outgoing SET state = 'queued', error = ?, next_attempt_at = ?,"
            " claimed_at = NULL, claimed_by = NULL WHERE id = ?",
            (error, to_ts(next_at), outgoing_id),
        )

    def match_status_report(
        self,
        modem: str,
        mr: int,
        recipient: str,
        state: Literal["delivered", "pending", "failed"],
        when: datetime,
        status: int | None = None,
    ) -> int | None:
        """Apply a status report to the most recent sent row with this modem, TP-MR, recipient.

        TP-MR wraps at 255, so older rows share it: the newest `sent_at` wins. Returns the
        matched id, or None when nothing matches. 'pending' changes nothing; `status`
        (TP-ST) is kept in `error` when the report says failed.
        """
        with self.core.transaction() as db:
            rows = list(
                db.query(
                    "SELECT id FROM outgoing WHERE modem = ? AND mr = ? AND recipient = ?"
                    " AND state IN ('sent', 'delivered', 'failed') AND sent_at IS NOT NULL"
                    " ORDER BY sent_at DESC, id DESC LIMIT 1",
                    (modem, mr % 256, recipient),
                )
            )
            if not rows:
                return None
            row_id = int(rows[0]["id"])
            if state == "delivered":
                db.execute(
                    "UPDATE outgoing SET state = 'delivered', delivered_at = ? WHERE id = ?",
                    (to_ts(when), row_id),
                )
            elif state == "failed":
                db.execute(
                    "UPDATE outgoing SET state = 'failed', error = ? WHERE id = ?",
                    (f"status report: failed (TP-ST {status})", row_id),
                )
            return row_id

    def get_outgoing(self, outgoing_id: int) -> Outgoing:
        """One outgoing row; `NotFound` otherwise."""
        row = self._one("SELECT * FROM outgoing WHERE id = ?", (outgoing_id,))
        if row is None:
            raise NotFound(f"no outgoing message {outgoing_id}")
        return _outgoing(row)

    def list(self, state: str | None = None, *, limit: int = 100) -> builtins.list[Outgoing]:
        """Outgoing messages, newest first, optionally of one state."""
        if state is None:
            rows = self._rows("SELECT * FROM outgoing ORDER BY id DESC LIMIT ?", (limit,))
        else:
            rows = self._rows(
                "SELECT * FROM outgoing WHERE state = ? ORDER BY id DESC LIMIT ?", (state, limit)
            )
        return [_outgoing(r) for r in rows]

    def replies_since(self, recipient: str, since: datetime) -> int:
        """How many replies (not broadcasts or manual sends) went to `recipient` since `since`."""
        row = self._one(
            "SELECT count(*) AS n FROM outgoing WHERE recipient = ? AND created_at >= ?"
            " AND kind IN ('user_code', 'reply', 'help', 'confirm')",
            (recipient, to_ts(since)),
        )
        return 0 if row is None else int(row["n"])

    def queue_length(self) -> int:
        """How many messages wait in the queue (due or not)."""
        row = self._one("SELECT count(*) AS n FROM outgoing WHERE state = 'queued'")
        return 0 if row is None else int(row["n"])

    def next_due_at(
        self, modem: str | None = None, healthy: Collection[str] | None = None
    ) -> datetime | None:
        """When the earliest queued message (that `modem` may send) becomes due; None if none."""
        clause, params = preference_clause(modem or "", None if modem is None else healthy)
        row = self._one(
            "SELECT min(o.next_attempt_at) AS t FROM outgoing o"  # noqa: S608 - constant clause
            f" WHERE o.state = 'queued' AND {clause}",
            params,
        )
        return None if row is None else from_ts(row["t"])

    def _transition(self, outgoing_id: int, sql: str, params: tuple[Any, ...]) -> None:
        cur = self._execute(sql, params)
        if cur.rowcount == 0:
            raise NotFound(f"no outgoing message {outgoing_id}")
