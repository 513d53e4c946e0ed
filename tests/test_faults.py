"""Faults the daemon survives, each through the simulator and the real daemon subprocess."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from modem.sim import SimModem
from smsd.testing import (
    DaemonProcess,
    make_db,
    notify_socket,
    rows,
    running_daemon,
    texts_to,
    wait_until,
    write_config,
)

HANDSET = "+447700900123"
SENT = "SELECT count(*) FROM outgoing WHERE state = 'sent'"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A database with the PIZZA code."""
    return make_db(tmp_path / "smsd.db")


def config(tmp_path: Path, db: Path) -> list[str]:
    """``--config`` arguments for fast retries and no status reports."""
    return ["--config", str(write_config(tmp_path / "smsd.toml", db, []))]


def replied(sim: SimModem, number: str = HANDSET) -> bool:
    """The user code and the code's reply both reached ``number``."""
    got = texts_to(sim, number)
    return len(got) >= 2 and any(t.startswith("Pizza: 2-for-1") for t in got)


def test_sigterm_finishes_the_send_in_flight(tmp_path: Path, sim: SimModem, db: Path) -> None:
    """SIGTERM during a slow AT+CMGS: the send completes, is recorded, and the exit code is 0."""
    sim.fault("slow_send", seconds=2.0)
    with running_daemon(tmp_path, db, [sim.link], extra=config(tmp_path, db)) as daemon:
        sim.deliver(HANDSET, "PIZZA")
        wait_until(lambda: sim.command_counts.get("AT+CMGS", 0) >= 1, what="a send in flight")
        assert daemon.terminate() == 0
        assert "daemon_stopped" in daemon.log_text()
    assert rows(db, SENT) == [(1,)]  # the one in flight, recorded; the second never claimed
    assert rows(db, "SELECT count(*) FROM outgoing WHERE state = 'sending'") == [(0,)]
    assert len(sim.sent()) == 1


def test_unplug_and_replug_reopens_the_same_path(tmp_path: Path, db: Path) -> None:
    """The pty vanishes and comes back at the same link: reopened, re-initialised, swept."""
    link = str(tmp_path / "modem-link")
    with SimModem("generic", noise=False, link=link) as sim:
        with running_daemon(tmp_path, db, [link], extra=config(tmp_path, db)) as daemon:
            sim.fault("unplug")
            wait_until(lambda: "modem_session_ended" in daemon.log_text(), what="the loss")
            sim.deliver(HANDSET, "PIZZA")  # lands in SIM storage; its +CMTI goes nowhere
            sim.fault("replug")
            wait_until(lambda: replied(sim), what="replies after the replug")
            assert daemon.terminate() == 0
        assert daemon.log_text().count('"modem_ready"') >= 2
        assert sim.stats["storage_used"] == 0
    assert rows(db, "SELECT count(*) FROM incoming") == [(1,)]


def test_reboot_mid_send_reinitialises_and_sends(tmp_path: Path, db: Path) -> None:
    """RDY while AT+CMGS waits for the network: the session restarts and the SMS goes once."""
    with SimModem("simcom", noise=False, link=str(tmp_path / "sim1")) as sim:
        sim.fault("slow_send", seconds=3.0)
        extra = config(tmp_path, db)
        with running_daemon(tmp_path, db, [sim.link], extra=extra) as daemon:
            sim.deliver(HANDSET, "PIZZA")
            wait_until(lambda: sim.command_counts.get("AT+CMGS", 0) >= 1, what="a send")
            sim.fault("slow_send", seconds=0.0)
            sim.fault("reboot")  # the answer to the send in flight never comes
            wait_until(lambda: replied(sim), timeout=30, what="replies after the reboot")
            assert daemon.terminate() == 0
        assert "modem_rebooted" in daemon.log_text()
        assert len(texts_to(sim, HANDSET)) == 2  # the lost send was not accepted: no duplicate
    assert rows(db, SENT) == [(2,)]


def test_hang_ends_the_session_and_nothing_is_lost(tmp_path: Path, sim: SimModem, db: Path) -> None:
    """A modem that stops answering: the read times out, the worker reconnects and sweeps."""
    # The modem comes from the config, with a 2 s command timeout: the hang detector.
    extra = [
        "--config",
        str(write_config(tmp_path / "smsd.toml", db, [sim.link], command_timeout=2.0)),
    ]
    with running_daemon(tmp_path, db, [], extra=extra) as daemon:
        sim.fault("hang", seconds=2.0)  # the AT+CMGR it swallows is never answered
        sim.deliver(HANDSET, "PIZZA")
        wait_until(lambda: replied(sim), timeout=40, what="replies after the hang")
        assert daemon.terminate() == 0
        assert "modem_session_ended" in daemon.log_text()
    assert rows(db, "SELECT count(*) FROM incoming") == [(1,)]
    assert sim.stats["storage_used"] == 0


def test_garbage_bytes_are_survived(tmp_path: Path, sim: SimModem, db: Path) -> None:
    """Random bytes on the line are logged as garbage; the message is still answered."""
    with running_daemon(tmp_path, db, [sim.link], extra=config(tmp_path, db)) as daemon:
        sim.fault("garbage", count=300)
        sim.deliver(HANDSET, "PIZZA")
        sim.fault("garbage", count=300)
        wait_until(lambda: replied(sim), what="replies despite garbage")
        assert daemon.terminate() == 0
    assert rows(db, "SELECT count(*) FROM incoming") == [(1,)]


def test_storage_full_network_holds_then_delivers(tmp_path: Path, sim: SimModem, db: Path) -> None:
    """SIM storage refuses messages: the network holds them; all arrive once slots free."""
    numbers = [f"+4477009001{i:02d}" for i in range(3)]
    with running_daemon(tmp_path, db, [sim.link], extra=config(tmp_path, db)) as daemon:
        sim.fault("storage_full")
        for number in numbers:
            sim.deliver(number, "PIZZA")
        wait_until(lambda: sim.stats["pending"] == 3, what="messages held by the network")
        assert rows(db, "SELECT count(*) FROM incoming") == [(0,)]
        sim.fault("storage_ok")
        wait_until(lambda: all(replied(sim, n) for n in numbers), what="replies to all three")
        assert daemon.terminate() == 0
    assert rows(db, "SELECT count(*) FROM incoming") == [(3,)]


def test_temporary_cms_error_is_retried(tmp_path: Path, sim: SimModem, db: Path) -> None:
    """+CMS ERROR: 500 on a send: queued again with back-off, then sent."""
    sim.fault("cms_error", code=500, count=1)
    with running_daemon(tmp_path, db, [sim.link], extra=config(tmp_path, db)) as daemon:
        sim.deliver(HANDSET, "PIZZA")
        wait_until(lambda: rows(db, SENT) == [(2,)], what="both replies sent")
        assert daemon.terminate() == 0
        assert "sms_retry_scheduled" in daemon.log_text()
    assert sorted(rows(db, "SELECT attempts FROM outgoing")) == [(1,), (2,)]


def test_permanent_cms_error_fails_with_reason(tmp_path: Path, sim: SimModem, db: Path) -> None:
    """+CMS ERROR: 21 (rejected) fails the message at once with the code as its reason."""
    sim.fault("cms_error", code=21, count=1)
    with running_daemon(tmp_path, db, [sim.link], extra=config(tmp_path, db)) as daemon:
        sim.deliver(HANDSET, "PIZZA")
        wait_until(lambda: rows(db, SENT) == [(1,)], what="the other reply sent")
        assert daemon.terminate() == 0
    assert rows(db, "SELECT attempts, error FROM outgoing WHERE state = 'failed'") == [
        (1, "+CMS ERROR: 21")
    ]


def test_database_locked_by_long_transaction(tmp_path: Path, sim: SimModem, db: Path) -> None:
    """A CLI write transaction longer than the busy timeout: the SMS waits on the SIM, then goes."""
    with running_daemon(tmp_path, db, [sim.link], extra=config(tmp_path, db)) as daemon:
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            sim.deliver(HANDSET, "PIZZA")
            wait_until(lambda: "store_alarm_raised" in daemon.log_text(), what="the alarm")
            assert sim.stats["storage_used"] == 1
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        wait_until(lambda: replied(sim), what="replies once the lock is gone")
        wait_until(lambda: "store_alarm_cleared" in daemon.log_text(), what="alarm cleared")
        assert daemon.terminate() == 0
    assert rows(db, "SELECT count(*) FROM incoming") == [(1,)]
    assert len(texts_to(sim, HANDSET)) == 2


def test_disk_full_keeps_messages_on_the_sim(tmp_path: Path, sim: SimModem, db: Path) -> None:
    """A database that cannot grow: alarm in STATUS, SMS stay on the SIM, all stored later."""
    limit = tmp_path / "max_pages"
    limit.write_text("1")  # SQLite raises it to the current size: no new page can be added
    numbers = [f"+4477009002{i:02d}" for i in range(24)]
    filler = " please send me the offer" * 5
    with notify_socket(tmp_path) as listener:
        daemon = DaemonProcess(
            tmp_path, db, [sim.link], extra=config(tmp_path, db),
            env={"SMSD_TEST_DB_MAX_PAGES_FILE": str(limit)},
        )  # fmt: skip
        daemon.start(listener)
        try:
            for number in numbers:
                sim.deliver(number, "PIZZA" + filler)
            alarm = listener.wait_for_match("STATUS", "ALARM", timeout=30)
            assert "full" in alarm
            wait_until(lambda: sim.stats["storage_used"] > 0, what="messages left on the SIM")
            stored = rows(db, "SELECT count(*) FROM incoming")[0][0]
            assert isinstance(stored, int) and stored < len(numbers)
            limit.write_text("1000000")  # space returns
            wait_until(
                lambda: all(replied(sim, n) for n in numbers), timeout=60, what="all replies"
            )
            assert daemon.terminate() == 0
        finally:
            if daemon.alive():
                daemon.kill()
    assert rows(db, "SELECT count(*), count(DISTINCT sender) FROM incoming") == [(24, 24)]
    assert sim.stats["storage_used"] == 0 and sim.stats["pending"] == 0
