"""Broadcasts through the transactional outbox, manual sends and retries of failed messages.

A broadcast queues one 'broadcast' row per person whose latest opt event for the business is
'in' and who is not erased, all in one transaction: it survives restarts because the rows are
the queue. The business's daily cap (its own, else the configured one) counts broadcast rows
queued since midnight UTC; recipients over the cap are not queued. Inside quiet hours the rows
are due at the end of the quiet period, in the operator's local time zone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo

from store.base import Part, StoreBase, to_ts
from store.broadcast_runs import record_broadcast
from store.directory import Directory
from store.errors import InvalidInput, NotFound
from store.outbox import Outbox

__all__ = ["BroadcastResult", "Broadcasts", "quiet_release"]


@dataclass(frozen=True)
class BroadcastResult:
    """What `broadcast` did: rows queued, people skipped as opted out, people over the cap."""

    queued: int
    skipped_opted_out: int
    capped: int
    due_at: datetime
    outgoing_ids: tuple[int, ...]
    broadcast_id: int | None = None


def quiet_release(now: datetime, quiet: tuple[time, time] | None, tz: tzinfo) -> datetime | None:
    """The end of the quiet period `now` falls in (as UTC), or None outside quiet hours.

    `quiet` is (start, end) local times; start > end means the period spans midnight.
    """
    if quiet is None or quiet[0] == quiet[1]:
        return None
    start, end = quiet
    local = now.astimezone(tz)
    clock = local.time().replace(tzinfo=None)
    inside = start <= clock < end if start < end else clock >= start or clock < end
    if not inside:
        return None
    release = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if release <= local:
        release += timedelta(days=1)
    return release.astimezone(UTC)


class Broadcasts(Part):
    """Queueing broadcasts, manual messages and retries (`store.broadcasts`)."""

    def __init__(self, core: StoreBase, directory: Directory, outbox: Outbox) -> None:
        super().__init__(core)
        self._directory = directory
        self._outbox = outbox

    def broadcast(
        self,
        business: int | str,
        text: str,
        *,
        now: datetime,
        default_cap: int,
        quiet: tuple[time, time] | None = None,
        tz: tzinfo = UTC,
        progress: Callable[[int], None] | None = None,
        release: Callable[[str], datetime | None] | None = None,
    ) -> BroadcastResult:
        """Queue `text` for everyone currently opted in to `business`, within cap and hours.

        `release(phone)`: when a row to that number may go (its quiet hours), None for `due`.
        """
        if not text.strip():
            raise InvalidInput("broadcast text must not be empty")
        due = quiet_release(now, quiet, tz) or now
        with self.core.transaction():
            owner = self._directory.get_business(business)
            cap = default_cap if owner.daily_cap is None else owner.daily_cap
            latest = self._rows(
                "SELECT p.id, p.phone, p.erased_at, e.kind FROM optin_events e"
                " JOIN people p ON p.id = e.person_id WHERE e.business_id = ?1 AND e.id ="
                " (SELECT max(id) FROM optin_events WHERE business_id = ?1"
                "  AND person_id = e.person_id) ORDER BY p.id",
                (owner.id,),
            )
            targets = [r for r in latest if r["kind"] == "in" and r["phone"] and not r["erased_at"]]
            midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
            sent_today = self._one(
                "SELECT count(*) AS n FROM outgoing WHERE business_id = ? AND kind = 'broadcast'"
                " AND created_at >= ?",
                (owner.id, to_ts(midnight)),
            )
            assert sent_today is not None
            room = max(0, cap - int(sent_today["n"]))
            ids = []
            for row in targets[:room]:
                ids.append(
                    self._outbox.queue_outgoing(
                        row["phone"], text, "broadcast", now=now, business_id=owner.id,
                        person_id=row["id"],
                        not_before=(release(row["phone"]) if release else None) or due,
                    )
                )  # fmt: skip
                if progress is not None:
                    progress(1)
            run = record_broadcast(self.core, owner.id, ids, now)
        skipped = sum(1 for r in latest if r["kind"] == "out")
        return BroadcastResult(len(ids), skipped, max(0, len(targets) - room), due, tuple(ids), run)

    def queue_manual(self, recipient: str, text: str, *, now: datetime) -> int:
        """Queue an operator's message to an E.164 number (linked to its person, if any)."""
        if not text.strip():
            raise InvalidInput("message text must not be empty")
        with self.core.transaction():
            person = self._directory.find_person(recipient)
            return self._outbox.queue_outgoing(
                recipient, text, "manual", now=now, person_id=None if person is None else person.id
            )

    def retry_failed(self, outgoing_id: int, *, now: datetime) -> None:
        """Put a failed message back in the queue, due now; `InvalidInput` unless it failed."""
        with self.core.transaction() as db:
            message = self._outbox.get_outgoing(outgoing_id)
            if message.state != "failed":
                raise InvalidInput(f"message {outgoing_id} is {message.state}, not failed")
            if message.recipient == "[erased]":
                raise InvalidInput(f"message {outgoing_id} was to an erased person")
            cur = db.execute(
                "UPDATE outgoing SET state = 'queued', next_attempt_at = ?, claimed_at = NULL,"
                " error = NULL WHERE id = ? AND state = 'failed'",
                (to_ts(now), outgoing_id),
            )
            if cur.rowcount != 1:  # pragma: no cover - guarded by the check above
                raise NotFound(f"no failed message {outgoing_id}")
