"""The messaging rules end to end: the real daemon, the simulator, a real SQLite file."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from modem.sim import SimModem
from smsd.testing import DaemonProcess, make_db, running_daemon, texts_to, wait_until

ROOT = Path(__file__).resolve().parent.parent

ALICE, BOB, CAROL = "+447700900001", "+447700900002", "+447700900003"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Two businesses with one code each."""
    return make_db(tmp_path / "smsd.db", pizza_reply="Pizza: 2-for-1", with_coffee=True)


@pytest.fixture
def config(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """A configuration with a reply cap (6, or a test's `cap` marker) and a loop threshold."""
    marker = request.node.get_closest_marker("cap")
    cap = 6 if marker is None else marker.args[0]
    path = tmp_path / "smsd.toml"
    path.write_text(
        '[gateway]\nname = "Gateway"\ncontact = "help@example.org"\nown_number = "+447700900000"\n'
        f"[limits]\nreplies_per_hour = {cap}\nloop_threshold = 3\nloop_window_minutes = 10\n"
    )
    return path


NEW = "SELECT count(*) FROM incoming WHERE state = 'new'"


def count(db: Path, sql: str) -> int:
    """One integer from the SQLite file."""
    with sqlite3.connect(db) as conn:
        return int(conn.execute(sql).fetchone()[0])


def converse(sim: SimModem, db: Path, number: str, text: str, expect: int) -> list[str]:
    """Text the gateway and wait until ``expect`` more replies reached the handset."""
    before = len(texts_to(sim, number))
    incoming = count(db, "SELECT count(*) FROM incoming")
    sim.deliver(number, text)
    wait_until(lambda: count(db, "SELECT count(*) FROM incoming") > incoming, what="stored")
    # Stored and routed are two commits (the SIM copy is deleted between them): wait for both.
    wait_until(lambda: count(db, NEW) == 0, what="routed")
    wait_until(
        lambda: (
            count(db, "SELECT count(*) FROM incoming WHERE state = 'new'") == 0
            and count(db, "SELECT count(*) FROM outgoing WHERE state IN ('queued', 'sending')") == 0
        ),
        what="routed and outbox drained",
    )
    wait_until(lambda: len(texts_to(sim, number)) >= before + expect, what="replies delivered")
    got = texts_to(sim, number)[before:]
    assert len(got) == expect, got
    return got


@pytest.fixture
def daemon(tmp_path: Path, sim: SimModem, db: Path, config: Path) -> Iterator[DaemonProcess]:
    """The daemon with the test configuration."""
    with running_daemon(tmp_path, db, [sim.link], extra=["--config", str(config)]) as d:
        yield d


@pytest.mark.cap(50)
def test_stop_start_help_and_stop_code(sim: SimModem, db: Path, daemon: DaemonProcess) -> None:
    """First contact, STOP <CODE>, texting the code again, STOP, START and HELP."""
    converse(sim, db, ALICE, "PIZZA", 2)
    assert "subscribed" in converse(sim, db, ALICE, "coffee", 2)[0]  # opt-in confirmation
    (stop_one,) = converse(sim, db, ALICE, "stop pizza", 1)
    assert "Pizza Place" in stop_one and "PIZZA" in stop_one
    assert converse(sim, db, ALICE, "Pizza!", 2)[1] == "Pizza: 2-for-1"  # explicit: opted in again
    (stop_all,) = converse(sim, db, ALICE, "STOP", 1)
    assert "START" in stop_all
    (start,) = converse(sim, db, ALICE, "start", 1)
    assert "opted back in" in start
    (help_text,) = converse(sim, db, ALICE, "HELP", 1)
    assert "help@example.org" in help_text and "rates may apply" in help_text
    ledger = "SELECT group_concat(kind, '') FROM (SELECT kind FROM optin_events ORDER BY id)"
    with sqlite3.connect(db) as conn:
        assert conn.execute(ledger).fetchone()[0] == "ininoutinoutoutinin"


def test_unknown_word_and_silent_senders(sim: SimModem, db: Path, daemon: DaemonProcess) -> None:
    """Unknown words get help; alphanumeric, short-code and our own number get nothing."""
    assert "don't know" in converse(sim, db, BOB, "BURGER", 2)[1]
    for sender in ("VODAFONE", "12345", "+447700900000"):
        sim.deliver(sender, "PIZZA")
    wait_until(lambda: count(db, "SELECT count(*) FROM incoming") == 4, what="all stored")
    wait_until(lambda: count(db, "SELECT count(*) FROM incoming WHERE state='new'") == 0)
    assert {m["to"] for m in sim.sent()} == {BOB}
    assert count(db, "SELECT count(*) FROM people") == 1


def test_flood_cap(sim: SimModem, db: Path, daemon: DaemonProcess) -> None:
    """Over the reply cap a number's requests are stored and counted, but nothing is sent."""
    for i in range(10):
        sim.deliver(CAROL, f"PIZZA {i}")  # different texts, so this is not a loop
    wait_until(lambda: count(db, "SELECT count(*) FROM requests") == 10, what="requests")
    pending = "SELECT count(*) FROM outgoing WHERE state IN ('queued', 'sending')"
    wait_until(lambda: count(db, pending) == 0, what="outbox drained")
    assert count(db, "SELECT count(*) FROM outgoing") == 6  # the configured replies_per_hour
    wait_until(lambda: len(texts_to(sim, CAROL)) >= 6, what="six texts on the network")
    assert len(texts_to(sim, CAROL)) == 6
    assert count(db, "SELECT count(*) FROM incoming") == 10


def test_two_responder_loop_is_stopped(sim: SimModem, db: Path, daemon: DaemonProcess) -> None:
    """An auto-responder answering every reply: the gateway stops answering it, logs once."""
    stop = threading.Event()

    def responder() -> None:
        answered = 0
        while not stop.wait(0.02):
            got = len(texts_to(sim, ALICE))
            while answered < got:
                answered += 1
                sim.deliver(ALICE, "I am out of the office until Monday.")

    sim.deliver(ALICE, "PIZZA")
    thread = threading.Thread(target=responder, daemon=True)
    thread.start()
    try:
        wait_until(lambda: "loop_detected" in daemon.log_text(), what="loop detection")
        settled = count(db, "SELECT count(*) FROM outgoing")
        sim.deliver(ALICE, "I am out of the office until Monday.")
        wait_until(lambda: count(db, "SELECT count(*) FROM incoming WHERE state='new'") == 0)
    finally:
        stop.set()
        thread.join()
    assert count(db, "SELECT count(*) FROM outgoing") == settled
    assert settled <= 2 + 3  # user code + reply, then at most the loop threshold of answers
    assert daemon.log_text().count("loop_detected") == 1


@pytest.mark.cap(50)
def test_broadcast_reaches_only_opted_in(sim: SimModem, db: Path, daemon: DaemonProcess) -> None:
    """``smsd broadcast`` from another process reaches opted-in people only, via the daemon."""
    dave = "+447700900004"
    for number in (ALICE, BOB, CAROL):
        converse(sim, db, number, "PIZZA", 2)
    converse(sim, db, CAROL, "STOP PIZZA", 1)
    converse(sim, db, dave, "COFFEE", 2)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli",
            "--db",
            str(db),
            "broadcast",
            "Pizza Place",
            "Tonight only!",
            "--yes",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    wait_until(
        lambda: sum(t == "Tonight only!" for m in (ALICE, BOB) for t in texts_to(sim, m)) == 2,
        what="broadcast delivered",
    )
    wait_until(lambda: count(db, "SELECT count(*) FROM outgoing WHERE state='queued'") == 0)
    assert "Tonight only!" not in texts_to(sim, CAROL) + texts_to(sim, dave)
