"""`store.schedules`: broadcasts due later, once or every day or week; durable by design.

A schedule is a row; the daemon's main loop asks for the due ones (`due`) and, in the same
transaction as it queues the broadcast's outgoing rows, calls `mark_ran`, which moves a
recurring schedule to its next time (skipping runs missed while the daemon was down, so a
restart never sends a burst of old broadcasts) and ends a one-off. A crash before the commit
leaves the schedule due: it runs once, after the restart.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from store.base import from_ts, to_ts
from store.errors import InvalidInput, NotFound
from store.rules_models import Recurrence, ScheduledBroadcast
from store.rules_schema import Core, query, write

__all__ = ["PERIODS", "Schedules", "next_run"]

PERIODS: dict[str, timedelta] = {"daily": timedelta(days=1), "weekly": timedelta(weeks=1)}

_SELECT = (
    "SELECT s.id, s.business_id, b.name AS business, s.text, s.next_at, s.every, s.created_at,"
    " s.runs, s.last_run_at, s.cancelled_at FROM scheduled_broadcasts s"
    " JOIN businesses b ON b.id = s.business_id"
)


def next_run(scheduled: datetime, every: Recurrence | None, now: datetime) -> datetime | None:
    """The next time after `now` on the schedule's grid, or None for a one-off."""
    if every is None:
        return None
    period = PERIODS[every]
    missed = max(0, (now - scheduled) // period + 1)
    return scheduled + missed * period


def _schedule(row: dict[str, Any]) -> ScheduledBroadcast:
    created = from_ts(row["created_at"])
    assert created is not None
    return ScheduledBroadcast(
        id=int(row["id"]),
        business_id=int(row["business_id"]),
        business=str(row["business"]),
        text=str(row["text"]),
        next_at=from_ts(row["next_at"]),
        every=cast(Recurrence | None, row["every"]),
        created_at=created,
        runs=int(row["runs"]),
        last_run_at=from_ts(row["last_run_at"]),
        cancelled_at=from_ts(row["cancelled_at"]),
    )


class Schedules:
    """Add, list, cancel and run scheduled broadcasts."""

    def __init__(self, core: Core) -> None:
        self._core = core

    def add(
        self, business_id: int, text: str, at: datetime, *, every: Recurrence | None = None,
        now: datetime, actor: str | None = None,
    ) -> ScheduledBroadcast:  # fmt: skip
        """Schedule `text` for `at` (UTC-aware), then every day/week when `every` is given."""
        if not text.strip():
            raise InvalidInput("broadcast text must not be empty")
        if every is not None and every not in PERIODS:
            raise InvalidInput(f"every must be one of {', '.join(PERIODS)}")
        cur = write(
            self._core,
            "INSERT INTO scheduled_broadcasts (business_id, text, next_at, every, created_at,"
            " actor) VALUES (?, ?, ?, ?, ?, ?)",
            (business_id, text, to_ts(at), every, to_ts(now), actor),
        )
        assert cur.lastrowid is not None
        return self.get(cur.lastrowid)

    def get(self, schedule_id: int) -> ScheduledBroadcast:
        """One schedule by id; `NotFound` otherwise."""
        rows = query(self._core, _SELECT + " WHERE s.id = ?", (schedule_id,))
        if not rows:
            raise NotFound(f"no scheduled broadcast {schedule_id}")
        return _schedule(rows[0])

    def list_all(
        self, *, business_id: int | None = None, include_done: bool = False
    ) -> list[ScheduledBroadcast]:
        """Schedules by next time (those still to run, unless `include_done`)."""
        rows = query(
            self._core,
            _SELECT + " WHERE (?1 IS NULL OR s.business_id = ?1)"
            " AND (?2 = 1 OR s.next_at IS NOT NULL) ORDER BY s.next_at IS NULL, s.next_at, s.id",
            (business_id, int(include_done)),
        )
        return [_schedule(r) for r in rows]

    def cancel(self, schedule_id: int, *, now: datetime) -> ScheduledBroadcast:
        """Stop a schedule; cancelling one that will not run again is refused."""
        with self._core.transaction():
            current = self.get(schedule_id)
            if current.next_at is None:
                raise InvalidInput(f"scheduled broadcast {schedule_id} will not run again")
            write(
                self._core,
                "UPDATE scheduled_broadcasts SET next_at = NULL, cancelled_at = ? WHERE id = ?",
                (to_ts(now), schedule_id),
            )
            return self.get(schedule_id)

    def due(self, now: datetime) -> list[ScheduledBroadcast]:
        """Schedules whose time has come, oldest first."""
        rows = query(
            self._core,
            _SELECT + " WHERE s.next_at IS NOT NULL AND s.next_at <= ? ORDER BY s.next_at, s.id",
            (to_ts(now),),
        )
        return [_schedule(r) for r in rows]

    def next_due_at(self) -> datetime | None:
        """When the next schedule is due (the daemon sleeps until then at most)."""
        rows = query(self._core, "SELECT min(next_at) AS at FROM scheduled_broadcasts")
        return from_ts(rows[0]["at"])

    def mark_ran(self, schedule_id: int, *, now: datetime) -> ScheduledBroadcast:
        """Record a run and move the schedule on (call in the transaction that queued it)."""
        with self._core.transaction():
            current = self.get(schedule_id)
            if current.next_at is None:
                raise InvalidInput(f"scheduled broadcast {schedule_id} is not due")
            upcoming = next_run(current.next_at, current.every, now)
            write(
                self._core,
                "UPDATE scheduled_broadcasts SET next_at = ?, runs = runs + 1, last_run_at = ?"
                " WHERE id = ?",
                (None if upcoming is None else to_ts(upcoming), to_ts(now), schedule_id),
            )
            return self.get(schedule_id)

    def identical_since(self, business_id: int, text: str, since: datetime) -> int:
        """Broadcasts of exactly `text` by the business queued since `since`, plus schedules
        of it still to run: what the repeat guard refuses without --force."""
        rows = query(
            self._core,
            "SELECT (SELECT count(*) FROM outgoing WHERE business_id = ?1 AND kind = 'broadcast'"
            " AND text = ?2 AND created_at >= ?3) + (SELECT count(*) FROM scheduled_broadcasts"
            " WHERE business_id = ?1 AND text = ?2 AND next_at IS NOT NULL) AS n",
            (business_id, text, to_ts(since)),
        )
        return int(rows[0]["n"])
