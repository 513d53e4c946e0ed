"""Deleted copies' keys are released by the next transaction: the next burst, idle, shutdown."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from modem.modem import Modem
from modem.settings import ModemSettings
from modem.sim import SimModem
from smsd.ingest import Ingest
from smsd.pipeline import Pipeline
from smsd.releases import DeletedCopies
from smsd.settings import Rules
from smsd.testing import (
    DaemonProcess,
    StatementLog,
    make_db,
    notify_socket,
    rows,
    texts_to,
    wait_until,
    write_config,
)
from store import Store, StoreError

HANDSET = "+447700900123"
LIVE = "SELECT count(*) FROM incoming WHERE dedupe_key NOT LIKE '%#released:%'"
STATES = "SELECT state, count(*) FROM incoming GROUP BY 1"


def number(i: int) -> str:
    """The i-th handset."""
    return f"+44770093{i:04d}"


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimModem]:
    """A quiet simulator."""
    with SimModem("generic", noise=False, link=str(tmp_path / "sim0")) as modem:
        yield modem


@pytest.fixture
def modem(sim: SimModem) -> Iterator[Modem]:
    """The product's Modem on the simulator's pty, initialised as the daemon does it."""
    opened = Modem(ModemSettings(url=str(sim.link), command_timeout=5.0))
    opened.open()
    try:
        opened.initialise()
        yield opened
    finally:
        opened.close()


def test_next_burst_releases_held_keys_before_recording(
    store: Store, sim: SimModem, modem: Modem
) -> None:
    """The second burst's one transaction releases the first's key, then records: a copy
    identical in sender, SCTS, text AND slot (the first PDU again) is a new message."""
    ingest = Ingest(store, Pipeline(store, Rules()))
    sim.deliver(HANDSET, "PIZZA")
    stored = modem.list_stored()
    ingest.take_stored(modem, "modem0", stored)
    (slot,) = [m.index for m in stored]
    assert ingest.pending.of("modem0") == (DeletedCopies("modem0", "SM", (slot,)),)
    assert rows(store.path, LIVE) == [(1,)]  # deleted, key held
    sim.deliver(HANDSET, "PIZZA")  # lands in the freed slot; we hand over the first PDU
    assert [m.index for m in modem.list_stored()] == [slot]
    statements = StatementLog()
    store.db.conn.set_trace_callback(statements)
    ingest.take_stored(modem, "modem0", stored)
    store.db.conn.set_trace_callback(None)
    writes = [s for s in statements if s.startswith(("BEGIN IMMEDIATE", "COMMIT"))]
    assert writes == ["BEGIN IMMEDIATE", "COMMIT"]  # release + record + route: one commit
    release = next(i for i, s in enumerate(statements) if "SET dedupe_key" in s)
    insert = next(i for i, s in enumerate(statements) if s.startswith("INSERT INTO incoming"))
    assert release < insert
    assert rows(store.path, STATES) == [("routed", 2)]
    assert rows(store.path, LIVE) == [(1,)]  # the second copy's own key, held again
    assert sim.stats["storage_used"] == 0


def test_store_refusal_leaves_the_burst_on_the_sim_and_the_keys_held(
    tmp_path: Path, sim: SimModem, modem: Modem
) -> None:
    """A locked database: the burst's one transaction rolls back whole, its copy stays on the
    SIM and the previous burst's key stays held; the next try takes it."""
    store = Store.open(make_db(tmp_path / "locked.db"), busy_timeout_ms=100)
    ingest = Ingest(store, Pipeline(store, Rules()))
    try:
        sim.deliver(HANDSET, "PIZZA")
        ingest.take_stored(modem, "modem0", modem.list_stored())
        held = ingest.pending.of("modem0")
        sim.deliver(number(1), "PIZZA")
        second = modem.list_stored()
        holder = sqlite3.connect(store.path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StoreError):
                ingest.take_stored(modem, "modem0", second)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert sim.stats["storage_used"] == 1  # nothing deleted that was not committed
        assert ingest.pending.of("modem0") == held
        assert rows(store.path, STATES) == [("routed", 1)]
        assert rows(store.path, LIVE) == [(1,)]
        ingest.take_stored(modem, "modem0", second)
        assert rows(store.path, STATES) == [("routed", 2)]
        assert sim.stats["storage_used"] == 0
    finally:
        store.close()


def test_idle_modem_releases_keys_after_the_delay(tmp_path: Path, sim: SimModem) -> None:
    """No burst follows: the daemon releases the key on its own after release_delay_s."""
    db = make_db(tmp_path / "smsd.db")
    with notify_socket(tmp_path) as listener:
        daemon = DaemonProcess(tmp_path, db, [str(sim.link)], _config(tmp_path, db, 0.2))
        daemon.start(listener)
        try:
            sim.deliver(HANDSET, "PIZZA")
            wait_until(lambda: rows(db, STATES) == [("routed", 1)], what="routed")
            wait_until(lambda: rows(db, LIVE) == [(0,)], what="the key released")
            assert daemon.terminate() == 0
        finally:
            daemon.stop()


def test_shutdown_releases_held_keys(tmp_path: Path, sim: SimModem) -> None:
    """SIGTERM with keys held (a delay of an hour): they are released before the exit."""
    db = make_db(tmp_path / "smsd.db")
    with notify_socket(tmp_path) as listener:
        daemon = DaemonProcess(tmp_path, db, [str(sim.link)], _config(tmp_path, db, 3600))
        daemon.start(listener)
        try:
            sim.deliver(HANDSET, "PIZZA")
            wait_until(lambda: len(texts_to(sim, HANDSET)) >= 2, what="replies")
            assert rows(db, LIVE) == [(1,)]  # deleted, held for a burst that never comes
            assert daemon.terminate() == 0
        finally:
            daemon.stop()
    assert rows(db, LIVE) == [(0,)]


def test_sigkill_between_delete_and_release(tmp_path: Path, sim: SimModem) -> None:
    """SIGKILL with a burst routed and deleted but its keys held: nothing lost or doubled;
    the start-up sweep releases them, and the same texts again are new messages."""
    count = 6
    db = make_db(tmp_path / "smsd.db")
    numbers = [number(i) for i in range(count)]
    with notify_socket(tmp_path) as listener:
        daemon = DaemonProcess(tmp_path, db, [str(sim.link)], _config(tmp_path, db, 3600))
        daemon.start(listener)
        try:
            for n in numbers:
                sim.deliver(n, "PIZZA")
            wait_until(lambda: rows(db, STATES) == [("routed", count)], what="routed")
            wait_until(lambda: sim.stats["storage_used"] == 0, what="SIM emptied")
            daemon.kill()
            assert rows(db, LIVE) == [(count,)]  # the crash came between delete and release
            daemon.start(listener)
            wait_until(lambda: rows(db, LIVE) == [(0,)], what="keys of empty slots released")
            wait_until(lambda: all(len(texts_to(sim, n)) >= 2 for n in numbers), what="replies")
            assert rows(db, STATES) == [("routed", count)]  # nothing read twice
            for n in numbers:
                sim.deliver(n, "PIZZA")
            wait_until(lambda: rows(db, STATES) == [("routed", 2 * count)], what="again")
            assert daemon.terminate() == 0
        finally:
            daemon.stop()
    assert rows(db, "SELECT count(*) FROM requests") == [(2 * count,)]


def _config(tmp_path: Path, db: Path, release_delay_s: float) -> list[str]:
    path = write_config(tmp_path / "smsd.toml", db, [])
    path.write_text(path.read_text() + f"\n[modem]\nrelease_delay_s = {release_delay_s}\n")
    return ["--config", str(path)]
