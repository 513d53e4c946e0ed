"""Operator safety and scheduled broadcasts end to end: daemon, simulator, CLI processes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from test_e2e_consent import converse, count, drained, smsd

from modem.sim import SimModem
from smsd.testing import (
    DaemonProcess,
    make_db,
    notify_socket,
    running_daemon,
    texts_to,
    wait_until,
)
from store.store import Store

ALICE, BOB = "+447700900001", "+447700900002"
TOKYO = "+819012345678"  # a Japanese mobile: Asia/Tokyo, 8-9 hours ahead of London


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Pizza Place (PIZZA)."""
    return make_db(tmp_path / "smsd.db", pizza_reply="Pizza: 2-for-1")


def quiet_window_in_tokyo(now: datetime) -> str:
    """Quiet hours around the current time in Tokyo, which cannot include London's time."""
    tokyo = now.astimezone(ZoneInfo("Asia/Tokyo"))
    return f"{(tokyo - timedelta(hours=2)):%H:%M}-{(tokyo + timedelta(hours=2)):%H:%M}"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """Contact, London as the gateway's zone, quiet hours that are night in Tokyo right now."""
    path = tmp_path / "smsd.toml"
    quiet = quiet_window_in_tokyo(datetime.now(UTC))
    path.write_text(
        '[gateway]\nname = "Gateway"\ncontact = "help@example.org"\n'
        'time_zone = "Europe/London"\n'
        f'[limits]\nreplies_per_hour = 50\nquiet_hours = "{quiet}"\n'
        "broadcast_repeat_hours = 24\n[outgoing]\nmax_parts = 3\n"
    )
    return path


def test_send_refuses_opted_out_number_unless_forced(
    tmp_path: Path, sim: SimModem, db: Path, config: Path
) -> None:
    """`send` to a number that texted STOP fails; --force sends it and is audited; parts capped."""
    with running_daemon(tmp_path, db, [sim.link], extra=["--config", str(config)]):
        converse(sim, db, ALICE, "PIZZA", 2)
        converse(sim, db, ALICE, "STOP", 1)
        refused = smsd(db, config, "send", ALICE, "Your table is ready")
        assert refused.returncode == 1 and "opted out" in refused.stderr
        assert count(db, "SELECT count(*) FROM outgoing WHERE kind = 'manual'") == 0
        too_long = smsd(db, config, "send", BOB, "x" * 1000)
        assert too_long.returncode == 1 and "7 parts" in too_long.stderr
        forced = smsd(db, config, "send", ALICE, "Your table is ready", "--force")
        assert forced.returncode == 0, forced.stderr
        assert "1 part" in forced.stdout
        wait_until(lambda: "Your table is ready" in texts_to(sim, ALICE), what="forced send")
    with Store.open(db) as store:
        assert [e.action for e in store.audit.list_audit()][-1] == "send_forced"


def test_repeated_broadcast_is_refused(
    tmp_path: Path, sim: SimModem, db: Path, config: Path
) -> None:
    """The same broadcast twice: the second is refused unless --force; --dry-run queues nothing."""
    with running_daemon(tmp_path, db, [sim.link], extra=["--config", str(config)]):
        converse(sim, db, ALICE, "PIZZA", 2)
        dry = smsd(db, config, "broadcast", "Pizza Place", "Half price!", "--dry-run")
        assert dry.returncode == 0 and "1 recipient" in dry.stdout
        assert count(db, "SELECT count(*) FROM outgoing WHERE kind = 'broadcast'") == 0
        first = smsd(db, config, "broadcast", "Pizza Place", "Half price!", "--yes")
        assert first.returncode == 0, first.stderr
        again = smsd(db, config, "broadcast", "Pizza Place", "Half price!", "--yes")
        assert again.returncode == 1 and "--force" in again.stderr
        wait_until(lambda: drained(db), what="broadcast sent")
        assert texts_to(sim, ALICE).count("Half price!") == 1


def test_scheduled_broadcast_survives_restart_and_waits_out_quiet_hours(
    tmp_path: Path, sim: SimModem, db: Path, config: Path
) -> None:
    """Scheduled, then SIGKILL and restart: London gets it at its time, Tokyo (night) waits."""
    extra = ["--config", str(config)]
    with notify_socket(tmp_path) as listener:
        daemon = DaemonProcess(tmp_path, db, [sim.link], extra=extra)
        daemon.start(listener)
        converse(sim, db, ALICE, "PIZZA", 2)
        converse(sim, db, TOKYO, "PIZZA", 2)
        at = (datetime.now(UTC) + timedelta(seconds=3)).isoformat(timespec="seconds")
        scheduled = smsd(db, config, "broadcast", "Pizza Place", "Lunch deal", "--at", at, "--yes")
        assert scheduled.returncode == 0, scheduled.stderr
        daemon.kill()
        assert count(db, "SELECT count(*) FROM outgoing WHERE kind = 'broadcast'") == 0
        daemon.start(listener)
        wait_until(lambda: "Lunch deal" in texts_to(sim, ALICE), what="London's broadcast")
        assert daemon.terminate() == 0
    assert "Lunch deal" not in texts_to(sim, TOKYO)
    with Store.open(db) as store:
        (waiting,) = [
            o for o in store.outbox.list() if o.recipient == TOKYO and o.kind == "broadcast"
        ]
        assert waiting.state == "queued" and waiting.next_attempt_at is not None
        local = waiting.next_attempt_at.astimezone(ZoneInfo("Asia/Tokyo"))
        quiet_end = re.search(r'quiet_hours = "[^"]*-([^"]*)"', config.read_text())
        assert quiet_end is not None and f"{local:%H:%M}" == quiet_end.group(1)
        assert [s.runs for s in store.schedules.list_all(include_done=True)] == [1]
