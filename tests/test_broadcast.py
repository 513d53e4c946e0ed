"""Broadcasts: only current opt-ins, never erased people, daily cap, quiet hours, outbox rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from store import OptinDraft, Plan, Store
from store.broadcast import quiet_release

T0 = datetime(2026, 9, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(db_target: str) -> Store:
    """Five people opted in to Pizza Place, then #3 opted out and #4 was erased."""
    s = Store.open(db_target)
    s.directory.add_business("Pizza Place", now=T0)
    s.directory.add_business("Other", now=T0)
    codes = []
    for i in range(5):
        msg = s.inbox.record_incoming(sender=f"+4477009004{i:02d}", sender_type="international",
                                text="PIZZA", received_at=T0,
                                scts=T0 + timedelta(seconds=i))  # fmt: skip
        assert msg is not None
        applied = s.routing.apply(
            msg, Plan(create_person=True, optins=(OptinDraft("in", 1, "PIZZA"),)), T0
        )
        assert applied.person is not None
        codes.append(applied.person.user_code)
    stop = s.inbox.record_incoming(sender="+447700900403", sender_type="international", text="STOP",
                             received_at=T0, scts=T0 + timedelta(minutes=1))  # fmt: skip
    assert stop is not None
    s.routing.apply(stop, Plan(optins=(OptinDraft("out", 1, "STOP"),)), T0 + timedelta(minutes=1))
    s.accounts.erase_everywhere(codes[4], actor="op", reason="asked")
    return s


def test_queues_only_current_opt_ins(store: Store) -> None:
    """Opted-out and erased people get nothing; everyone else exactly one broadcast row."""
    ticks: list[int] = []
    result = store.broadcasts.broadcast(
        "Pizza Place", "Sale!", now=T0, default_cap=100, progress=ticks.append
    )
    assert (result.queued, result.skipped_opted_out, result.capped) == (3, 1, 0)
    rows = store.outbox.list()
    assert sorted(r.recipient for r in rows if r.kind == "broadcast") == [
        "+447700900400",
        "+447700900401",
        "+447700900402",
    ]
    assert all(r.state == "queued" and r.business_id == 1 for r in rows) and len(ticks) == 3


def test_daily_cap_counts_earlier_broadcasts(store: Store) -> None:
    """A business cap of 4 allows 3 now and 1 more the same day; the rest are capped."""
    store.accounts.update_business("Pizza Place", {}, daily_cap=4)
    store.broadcasts.broadcast("Pizza Place", "one", now=T0, default_cap=100)
    second = store.broadcasts.broadcast(
        "Pizza Place", "two", now=T0 + timedelta(hours=1), default_cap=100
    )
    assert (second.queued, second.capped) == (1, 2)
    next_day = store.broadcasts.broadcast(
        "Pizza Place", "three", now=T0 + timedelta(days=1), default_cap=100
    )
    assert next_day.queued == 3


def test_quiet_hours_defer_to_their_end(store: Store) -> None:
    """Inside 21:00-08:00 the rows are due at 08:00 local time."""
    tz = timezone(timedelta(hours=2))
    late = datetime(2026, 9, 7, 21, 30, tzinfo=tz)
    result = store.broadcasts.broadcast("Pizza Place", "x", now=late, default_cap=10,
                             quiet=(time(21), time(8)), tz=tz)  # fmt: skip
    assert result.due_at == datetime(2026, 9, 8, 8, 0, tzinfo=tz)
    assert {r.next_attempt_at for r in store.outbox.list()} == {result.due_at}


def test_quiet_release_edges() -> None:
    """Before the window, after midnight, and a same-day window."""
    q = (time(21), time(8))
    assert quiet_release(datetime(2026, 1, 1, 20, 59, tzinfo=UTC), q, UTC) is None
    assert quiet_release(datetime(2026, 1, 2, 3, 0, tzinfo=UTC), q, UTC) == datetime(
        2026, 1, 2, 8, 0, tzinfo=UTC
    )
    assert quiet_release(datetime(2026, 1, 1, 13, 0, tzinfo=UTC), (time(12), time(14)), UTC) == (
        datetime(2026, 1, 1, 14, 0, tzinfo=UTC)
    )
    assert quiet_release(datetime(2026, 1, 1, 8, 0, tzinfo=UTC), q, UTC) is None


def test_cli_summary_json(store: Store, tmp_path: Path) -> None:
    """`smsd broadcast --json` reports queued, skipped and capped."""
    config = tmp_path / "smsd.toml"
    config.write_text("[limits]\nbroadcast_daily_cap = 2\n")
    args = ["--db", store.target, "--config", str(config), "broadcast", "Pizza Place", "Sale"]
    result = CliRunner().invoke(cli, [*args, "--json", "--yes"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["queued"], doc["skipped_opted_out"], doc["capped"]) == (2, 1, 1)


def test_cli_unknown_business_exits_1(store: Store) -> None:
    """An unknown business is a one-line error."""
    result = CliRunner().invoke(cli, ["--db", store.target, "broadcast", "Nope", "x", "--yes"])
    assert result.exit_code == 1 and result.stderr.startswith("Error: no business")
