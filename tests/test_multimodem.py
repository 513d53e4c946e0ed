"""Several modems: one worker each, one shared queue; a dead modem's share goes elsewhere."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from modem.sim import SimModem
from smsd.testing import make_db, rows, running_daemon, sent_by, wait_until, write_config
from store.store import Store

ROOT = Path(__file__).resolve().parent.parent

SENT = "SELECT count(*) FROM outgoing WHERE state = 'sent'"


def queue_from_another_process(db: Path, count: int, prefix: str = "+4477009003") -> None:
    """Queue manual messages through a second connection, as the CLI does."""
    store = Store.open(db)
    try:
        for i in range(count):
            store.outbox.queue_outgoing(
                f"{prefix}{i:02d}", f"hello {i}", "manual", now=datetime.now(UTC)
            )
    finally:
        store.close()


def test_row_queued_by_another_process_is_sent_within_two_seconds(tmp_path: Path) -> None:
    """PRAGMA data_version wakes the idle daemon: a CLI row leaves within about a second."""
    db = make_db(tmp_path / "smsd.db")
    with SimModem("generic", noise=False, link=str(tmp_path / "sim0")) as sim:
        extra = ["--config", str(write_config(tmp_path / "smsd.toml", db, []))]
        with running_daemon(tmp_path, db, [sim.link], extra=extra) as daemon:
            queue_from_another_process(db, 1)
            queued = time.monotonic()
            wait_until(lambda: len(sim.sent()) == 1, timeout=5, what="the CLI row sent")
            elapsed = time.monotonic() - queued
            assert daemon.terminate() == 0
    assert elapsed < 2.0, f"took {elapsed:.2f}s"


def test_unplugged_modem_queue_goes_to_the_other(tmp_path: Path) -> None:
    """Two modems, one unplugged: every queued message is sent by the one still up."""
    db = make_db(tmp_path / "smsd.db")
    links = [str(tmp_path / "modem-a"), str(tmp_path / "modem-b")]
    with (
        SimModem("generic", noise=False, link=links[0]) as sim_a,
        SimModem("generic", noise=False, link=links[1]) as sim_b,
    ):
        extra = ["--config", str(write_config(tmp_path / "smsd.toml", db, []))]
        with running_daemon(tmp_path, db, links, extra=extra) as daemon:
            assert daemon.notify is not None
            daemon.notify.wait_for_match("STATUS", "modems up 2/2", timeout=20)
            sim_a.fault("unplug")
            wait_until(lambda: "modem_session_ended" in daemon.log_text(), what="A lost")
            queue_from_another_process(db, 8)
            wait_until(lambda: rows(db, SENT) == [(8,)], timeout=30, what="all 8 sent")
            assert daemon.terminate() == 0
        assert len(sim_b.sent()) == 8 and sim_a.sent() == []
        assert len(sent_by([sim_a, sim_b])) == 8
    assert rows(db, "SELECT DISTINCT modem FROM outgoing") == [("modem1",)]


def test_preferred_modem_and_failover_and_status(tmp_path: Path) -> None:
    """A business's preferred modem sends its messages; when it dies the other one does.

    ``smsd modem status`` reads what the running daemon reported for each modem.
    """
    db = make_db(tmp_path / "smsd.db")
    with Store.open(db) as store:
        store.modems.set_business_modem("Pizza Place", "modem1")
        pizza = store.directory.get_business("Pizza Place").id
    links = [str(tmp_path / "modem-a"), str(tmp_path / "modem-b")]
    with (
        SimModem("generic", noise=False, link=links[0]) as sim_a,
        SimModem("quectel", noise=False, link=links[1]) as sim_b,
    ):
        extra = ["--config", str(write_config(tmp_path / "smsd.toml", db, []))]
        with running_daemon(tmp_path, db, links, extra=extra) as daemon:
            assert daemon.notify is not None
            daemon.notify.wait_for_match("STATUS", "modems up 2/2", timeout=20)
            report = modem_status_json(db)
            assert report["modem1"]["healthy"] and report["modem1"]["model"] == "EC25"
            queue_for_business(db, pizza, 4)
            wait_until(lambda: len(sim_b.sent()) == 4, what="preferred modem sent all 4")
            assert sim_a.sent() == []
            sim_b.fault("unplug")
            wait_until(lambda: not modem_status_json(db)["modem1"]["healthy"], what="reported")
            queue_for_business(db, pizza, 3)
            wait_until(lambda: len(sim_a.sent()) == 3, timeout=30, what="failover to modem0")
            assert daemon.terminate() == 0


def queue_for_business(db: Path, business_id: int, count: int) -> None:
    """Queue replies on behalf of a business, from another process's connection."""
    with Store.open(db) as store:
        for i in range(count):
            store.outbox.queue_outgoing(f"+44770090050{i}", f"deal {i}", "broadcast",
                                 now=datetime.now(UTC), business_id=business_id)  # fmt: skip


def modem_status_json(db: Path) -> dict[str, dict[str, object]]:
    """``smsd modem status --json`` as a person would run it against the running daemon."""
    done = subprocess.run(
        [sys.executable, "-m", "cli", "--db", str(db), "modem", "status", "--json"],
        capture_output=True, text=True, timeout=60, check=True, cwd=ROOT,
    )  # fmt: skip
    report: dict[str, dict[str, object]] = json.loads(done.stdout)
    return report
