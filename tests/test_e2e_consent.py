"""Consent rules end to end: the real daemon, the simulator, a real SQLite file (issue 16)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from modem.sim import SimModem
from smsd.testing import DaemonProcess, make_db, running_daemon, texts_to, wait_until
from store.store import Store

ROOT = Path(__file__).resolve().parent.parent

ALICE, BOB = "+447700900001", "+447700900002"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Pizza Place (PIZZA) and Coffee Corner (COFFEE)."""
    return make_db(tmp_path / "smsd.db", pizza_reply="Pizza: 2-for-1", with_coffee=True)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A contact, a generous reply cap, and quick retries."""
    path = tmp_path / "smsd.toml"
    path.write_text(
        '[gateway]\nname = "Gateway"\ncontact = "help@example.org"\n'
        "[limits]\nreplies_per_hour = 50\n"
    )
    return path


@pytest.fixture
def daemon(tmp_path: Path, sim: SimModem, db: Path, config: Path) -> Iterator[DaemonProcess]:
    """The daemon on the simulator with the test configuration."""
    with running_daemon(tmp_path, db, [sim.link], extra=["--config", str(config)]) as d:
        yield d


def count(db: Path, sql: str) -> int:
    """One integer from the SQLite file."""
    with sqlite3.connect(db) as conn:
        return int(conn.execute(sql).fetchone()[0])


def drained(db: Path) -> bool:
    """Nothing routed-but-unsent and nothing unrouted."""
    return (
        count(db, "SELECT count(*) FROM outgoing WHERE state IN ('queued', 'sending')") == 0
        and count(db, "SELECT count(*) FROM incoming WHERE state = 'new'") == 0
    )


def converse(sim: SimModem, db: Path, number: str, text: str, expect: int) -> list[str]:
    """Text the gateway; wait until it is routed and answered; return the new replies."""
    before = len(texts_to(sim, number))
    stored = count(db, "SELECT count(*) FROM incoming")
    sim.deliver(number, text)
    wait_until(lambda: count(db, "SELECT count(*) FROM incoming") > stored, what="stored")
    wait_until(lambda: drained(db), what="routed and sent")
    wait_until(lambda: len(texts_to(sim, number)) >= before + expect, what="replies")
    got = texts_to(sim, number)[before:]
    assert len(got) == expect, got
    return got


def smsd(db: Path, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI as an operator would, in another process."""
    return subprocess.run(
        [sys.executable, "-m", "cli", "--db", str(db), "--config", str(config), *args],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_stop_texting_me_gets_one_confirmation_and_no_broadcast(
    sim: SimModem, db: Path, config: Path, daemon: DaemonProcess
) -> None:
    """ "stop texting me" is an opt-out: one confirmation, then no broadcast reaches them."""
    converse(sim, db, ALICE, "PIZZA", 2)
    converse(sim, db, BOB, "PIZZA", 2)
    (confirmation,) = converse(sim, db, ALICE, "stop texting me", 1)
    assert "START" in confirmation and "Pizza: 2-for-1" not in confirmation
    done = smsd(db, config, "broadcast", "Pizza Place", "Tonight only!", "--yes")
    assert done.returncode == 0, done.stderr
    wait_until(lambda: "Tonight only!" in texts_to(sim, BOB), what="broadcast to BOB")
    wait_until(lambda: drained(db), what="outbox drained")
    assert texts_to(sim, ALICE)[-1] == confirmation and len(texts_to(sim, ALICE)) == 3


def test_double_optin_records_the_optin_only_after_yes(
    sim: SimModem, db: Path, config: Path, daemon: DaemonProcess
) -> None:
    """A double opt-in business: PIZZA asks for YES (nothing recorded), YES opts in and replies."""
    done = smsd(db, config, "company", "update", "Pizza Place", "--double-opt-in")
    assert done.returncode == 0, done.stderr
    first = converse(sim, db, ALICE, "PIZZA", 2)
    assert "YES" in first[1] and "Pizza: 2-for-1" not in first
    assert count(db, "SELECT count(*) FROM optin_events") == 0
    assert count(db, "SELECT count(*) FROM optin_pending WHERE confirmed_at IS NULL") == 1
    confirmed = converse(sim, db, ALICE, "Yes", 2)
    assert "subscribed" in confirmed[0] and confirmed[1] == "Pizza: 2-for-1"
    assert count(db, "SELECT count(*) FROM optin_events WHERE kind = 'in'") == 1
    export = smsd(db, config, "consent", "export", "--company", "Pizza Place", "--format", "json")
    assert export.returncode == 0, export.stderr
    assert '"pending"' in export.stdout and '"in"' in export.stdout and ALICE not in export.stdout
    with Store.open(db) as store:
        assert [r.kind for r in store.consent.records()] == ["pending", "in"]
