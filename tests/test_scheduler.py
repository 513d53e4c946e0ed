"""The daemon's scheduler on real SQLite: due schedules queued once, per-recipient quiet hours."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from smsd.daemon import Daemon, DaemonOptions
from smsd.pipeline import process_incoming
from smsd.router import Rules
from smsd.scheduler import Scheduler
from smsd.settings import BroadcastPolicy
from store import Store

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)  # 12:00 London, 21:00 Tokyo
LONDON, TOKYO = "+447700900001", "+819012345678"
POLICY = BroadcastPolicy((time(20, 0), time(8, 0)), "Europe/London")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """Pizza Co with two opted-in people, one in London and one in Tokyo."""
    s = Store.open(tmp_path / "smsd.db")
    s.directory.add_business("Pizza Co", now=T0)
    s.directory.add_code("Pizza Co", "PIZZA", "Hot pizza", now=T0)
    for number in (LONDON, TOKYO):
        msg = s.inbox.record_incoming(sender=number, sender_type="international", text="PIZZA",
                                received_at=T0, scts=T0)  # fmt: skip
        assert msg is not None and process_incoming(s, msg, T0, Rules()) is not None
    yield s
    s.close()


def broadcast_rows(store: Store) -> dict[str, datetime | None]:
    """recipient -> when its broadcast row is due."""
    return {o.recipient: o.next_attempt_at for o in store.outbox.list() if o.kind == "broadcast"}


def test_due_schedule_queues_once_with_recipient_quiet_hours(store: Store) -> None:
    """At its time the schedule is queued once: London now, Tokyo after 08:00 JST (23:00 UTC)."""
    pizza = store.directory.get_business("Pizza Co")
    store.schedules.add(pizza.id, "Lunch deal", T0 + timedelta(minutes=5), now=T0)
    scheduler = Scheduler(store, POLICY)
    assert scheduler.tick(T0, changed=True) == 0
    at = T0 + timedelta(minutes=5)
    assert scheduler.tick(at, changed=False) == 2
    assert broadcast_rows(store) == {LONDON: at, TOKYO: datetime(2026, 1, 5, 23, 0, tzinfo=UTC)}
    assert scheduler.tick(at + timedelta(minutes=1), changed=False) == 0
    assert store.schedules.list_all() == []


def test_recurring_schedule_runs_daily(store: Store) -> None:
    """A daily schedule runs again the next day, not twice the same day."""
    pizza = store.directory.get_business("Pizza Co")
    store.schedules.add(pizza.id, "Daily deal", T0, every="daily", now=T0)
    scheduler = Scheduler(store, BroadcastPolicy())
    assert scheduler.tick(T0, changed=True) == 2
    assert scheduler.tick(T0 + timedelta(hours=3), changed=False) == 0
    assert scheduler.tick(T0 + timedelta(days=1), changed=False) == 2
    assert store.schedules.list_all()[0].runs == 2


def test_reload_gives_the_scheduler_the_new_policy(tmp_path: Path) -> None:
    """SIGHUP's reload hands the scheduler the re-read broadcast policy (quiet hours, caps)."""
    newer = BroadcastPolicy((time(22, 0), time(7, 0)), "Europe/Paris", default_cap=5)
    options = DaemonOptions(
        db_path=str(tmp_path / "daemon.db"), modems=[], rules_loader=Rules,
        broadcast_loader=lambda: newer,
    )  # fmt: skip
    daemon = Daemon(options)
    try:
        assert daemon.scheduler.policy == BroadcastPolicy()
        daemon.reload_requested.set()
        daemon.reload()
        assert daemon.scheduler.policy == newer
    finally:
        daemon.store.close()
