"""Broadcast policy and the daemon's scheduler for scheduled and recurring broadcasts.

`queue_broadcast` is the one way a broadcast is queued (CLI now, daemon later): the business's
daily cap, and quiet hours in each recipient's zone (`smsd.quiet`). The daemon's main loop
calls `Scheduler.run_due` every tick; each due schedule is queued and moved on in ONE store
transaction, so a crash either queued it and moved it on, or did neither and it runs after the
restart. Runs missed while the daemon was down are not sent in a burst: a recurring schedule
runs once and moves to its next time after now.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import structlog

from smsd.quiet import QuietHours
from smsd.settings import BroadcastPolicy
from store import Store, StoreError, StoreUnavailable
from store.broadcast import BroadcastResult

__all__ = ["Scheduler", "queue_broadcast"]

log = structlog.get_logger(__name__)


def queue_broadcast(
    store: Store,
    business: int | str,
    text: str,
    now: datetime,
    policy: BroadcastPolicy,
    progress: Callable[[int], None] | None = None,
) -> BroadcastResult:
    """Queue `text` to the business's opted-in people, each due after their quiet hours."""
    quiet = QuietHours.of(policy)
    return store.broadcasts.broadcast(
        business,
        text,
        now=now,
        default_cap=policy.default_cap,
        progress=progress,
        release=lambda phone: quiet.release(phone, now),
    )


class Scheduler:
    """Runs due scheduled broadcasts from the daemon's main loop."""

    def __init__(self, store: Store, policy: BroadcastPolicy) -> None:
        self.store = store
        self.policy = policy
        self._next: datetime | None = None
        self._known = False  # whether `_next` reflects the store

    def tick(self, now: datetime, *, changed: bool) -> int:
        """Run what is due; reads the store only when it changed or the next time has come.

        `changed`: another process wrote to the store since the last tick (a new schedule).
        """
        if changed or not self._known:
            self._next, self._known = self.store.schedules.next_due_at(), True
        if self._next is None or self._next > now:
            return 0
        queued = self.run_due(now)
        self._next = self.store.schedules.next_due_at()
        return queued

    def run_due(self, now: datetime) -> int:
        """Queue every due schedule; returns the number of messages queued."""
        queued = 0
        for schedule in self.store.schedules.due(now):
            try:
                with self.store.transaction():
                    result = queue_broadcast(
                        self.store, schedule.business_id, schedule.text, now, self.policy
                    )
                    self.store.schedules.mark_ran(schedule.id, now=now)
            except StoreUnavailable as exc:
                log.warning("scheduled_broadcast_deferred", schedule_id=schedule.id, error=str(exc))
                return queued
            except StoreError as exc:
                log.error("scheduled_broadcast_failed", schedule_id=schedule.id, error=str(exc))
                self.store.schedules.mark_ran(schedule.id, now=now)
                continue
            queued += result.queued
            log.info(
                "scheduled_broadcast_queued",
                schedule_id=schedule.id,
                queued=result.queued,
                capped=result.capped,
            )
        return queued
