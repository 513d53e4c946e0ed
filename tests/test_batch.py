"""Group commit: a burst is recorded and routed in one transaction, each message alone."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from modem.at import Urc
from modem.modem import Modem
from modem.settings import ModemSettings
from modem.sim import SimModem
from smsd.ingest import Ingest
from smsd.pipeline import Pipeline, process_many, process_unrouted
from smsd.settings import Rules
from smsd.testing import (
    DaemonProcess,
    StatementLog,
    make_db,
    notify_socket,
    rows,
    texts_to,
    wait_until,
)
from store import IncomingDraft, InvalidInput, Store
from store.burst import Applied, BurstWrite
from store.pg_rows import json_rows, rows_insert

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
RULES = Rules()


def number(i: int) -> str:
    """The i-th handset of a burst."""
    return f"+44770092{i:04d}"


def _transactions(statements: list[str]) -> list[list[str]]:
    """The traced statements cut into write transactions (BEGIN IMMEDIATE ... COMMIT).

    Read-only transactions (plain BEGIN) write nothing and cost no fsync: they are skipped.
    """
    groups: list[list[str]] = []
    writing = False
    for sql in statements:
        if sql.startswith("BEGIN"):
            writing = sql.startswith("BEGIN IMMEDIATE")
            if writing:
                groups.append([])
        if writing:
            groups[-1].append(sql)
    return groups


def _count(group: list[str], prefix: str) -> int:
    return sum(1 for sql in group if sql.lstrip().startswith(prefix))


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimModem]:
    """A quiet simulator with room for a burst (30 slots)."""
    with SimModem("generic", noise=False, storage_size=30, link=str(tmp_path / "sim0")) as modem:
        yield modem


@contextmanager
def open_modem(sim: SimModem, on_urc: Callable[[Urc], None] | None = None) -> Iterator[Modem]:
    """The product's Modem on the simulator's pty, initialised as the daemon does it."""
    modem = Modem(ModemSettings(url=str(sim.link), command_timeout=5.0), on_urc=on_urc)
    modem.open()
    try:
        modem.initialise()
        yield modem
    finally:
        modem.close()


def _ingest(store: Store) -> Ingest:
    """An Ingest wired as the daemon wires it: routing through a `Pipeline`."""
    return Ingest(store, Pipeline(store, RULES))


class DeletesAtCommit(StatementLog):
    """The statements, and how many AT+CMGD the simulator had seen at each write COMMIT."""

    def __init__(self, sim: SimModem) -> None:
        super().__init__()
        self.sim = sim
        self.writing = False
        self.deletes_at_commit: list[int] = []

    def __call__(self, sql: str) -> None:
        super().__call__(sql)
        if sql.startswith("BEGIN"):
            self.writing = sql.startswith("BEGIN IMMEDIATE")
        elif sql == "COMMIT" and self.writing:
            self.deletes_at_commit.append(self.sim.command_counts.get("AT+CMGD", 0))


def _check_one_batch(store: Store, statements: DeletesAtCommit, count: int) -> None:
    groups = _transactions(statements)
    assert [_count(g, "COMMIT") for g in groups] == [1]  # record + route: one commit
    assert statements.deletes_at_commit == [0]  # every delete after that commit
    (burst,) = groups
    assert _count(burst, "INSERT INTO incoming") == count
    assert _count(burst, "UPDATE incoming SET dedupe_key") == 0  # nothing deleted before it
    assert _count(burst, "SAVEPOINT") == 1  # the burst's; one per message only on a fault
    assert _count(burst, "UPDATE incoming SET state") == 1  # one per outcome: all routed
    assert rows(store.path, "SELECT state, count(*) FROM incoming GROUP BY 1") == [
        ("routed", count)
    ]
    replies = rows(store.path, "SELECT count(DISTINCT recipient) FROM outgoing WHERE kind='reply'")
    assert replies == [(count,)]
    live = "SELECT count(*) FROM incoming WHERE dedupe_key NOT LIKE '%#released:%'"
    assert rows(store.path, live) == [(count,)]  # deleted, keys held for the next transaction


def _check_released(store: Store, ingest: Ingest) -> None:
    """The held keys go in one small transaction of their own (no burst followed)."""
    statements = StatementLog()
    store.db.conn.set_trace_callback(statements)
    ingest.release_pending("modem0")
    store.db.conn.set_trace_callback(None)
    (release,) = _transactions(statements)
    assert _count(release, "UPDATE incoming SET dedupe_key") == 1  # every slot at once
    live = "SELECT count(*) FROM incoming WHERE dedupe_key NOT LIKE '%#released:%'"
    assert rows(store.path, live) == [(0,)]
    assert ingest.pending.of("modem0") == ()


def test_sweep_records_a_burst_in_one_transaction(store: Store, sim: SimModem) -> None:
    """A sweep of 12 stored SMS: 12 rows, 12 routed in one commit, deletes after it."""
    for i in range(12):
        sim.deliver(number(i), "PIZZA")
    statements = DeletesAtCommit(sim)
    ingest = _ingest(store)
    with open_modem(sim) as modem:
        store.db.conn.set_trace_callback(statements)
        assert ingest.sweep(modem, "modem0") == 12
        store.db.conn.set_trace_callback(None)
    assert sim.stats["storage_used"] == 0
    _check_one_batch(store, statements, 12)
    _check_released(store, ingest)


def test_queued_cmti_are_read_then_recorded_together(store: Store, sim: SimModem) -> None:
    """Five +CMTI waiting together: five AT+CMGR, then one transaction records and routes all."""
    urcs: list[Urc] = []
    statements = DeletesAtCommit(sim)
    ingest = _ingest(store)
    with open_modem(sim, on_urc=urcs.append) as modem:
        for i in range(5):
            sim.deliver(number(i), "PIZZA")
        wait_until(lambda: sum(u.name == "+CMTI" for u in urcs) >= 5, what="five +CMTI")
        store.db.conn.set_trace_callback(statements)
        ingest.handle_urcs(modem, "modem0", [u for u in urcs if u.name == "+CMTI"])
        store.db.conn.set_trace_callback(None)
    assert sim.command_counts.get("AT+CMGR") == 5
    assert sim.stats["storage_used"] == 0
    _check_one_batch(store, statements, 5)
    _check_released(store, ingest)


def test_routing_error_in_one_message_leaves_the_others_routed(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One message's routing raises after writing: only its writes are undone, it stays 'new'."""
    drafts = [
        IncomingDraft(number(i), "international", "PIZZA", T0 + timedelta(seconds=i), scts=T0)
        for i in range(3)
    ]
    ids = [i for i in store.inbox.record_incoming_many(drafts) if i is not None]
    real_apply = store.routing.burst.apply

    def apply_then_fail(writes: list[BurstWrite], now: datetime) -> list[Applied]:
        applied = real_apply(writes, now)  # written, then a bug: every write must be undone
        if any(w.message.id == ids[1] for w in writes):
            raise RuntimeError("bug in one message")
        return applied

    monkeypatch.setattr(store.routing.burst, "apply", apply_then_fail)
    routed = process_many(store, ids, T0, RULES)
    assert routed.failed == (ids[1],)
    assert [p.incoming_id for p in routed.processed] == [ids[0], ids[2]]
    states = rows(store.path, "SELECT id, state FROM incoming ORDER BY id")
    assert states == [(ids[0], "routed"), (ids[1], "new"), (ids[2], "routed")]
    people = rows(store.path, "SELECT phone FROM people ORDER BY phone")
    assert people == [(number(0),), (number(2),)]  # the failed one's new person rolled back too
    monkeypatch.undo()
    assert [p.incoming_id for p in process_unrouted(store, T0, RULES)] == [ids[1]]


def test_a_bad_draft_records_none_of_the_batch(store: Store) -> None:
    """Recording is all or nothing: one invalid draft and no row of the batch is kept."""
    good = IncomingDraft(number(0), "international", "PIZZA", T0, scts=T0)
    naive = IncomingDraft(number(1), "international", "PIZZA", T0.replace(tzinfo=None))
    with pytest.raises(InvalidInput):
        store.inbox.record_incoming_many([good, naive])
    assert rows(store.path, "SELECT count(*) FROM incoming") == [(0,)]
    assert store.inbox.record_incoming_many([good]) == [1]


def test_sigkill_between_batch_commit_and_deletes(tmp_path: Path, sim: SimModem) -> None:
    """SIGKILL with a swept burst committed (recorded and routed) but not deleted: after the
    restart the copies are duplicates, each reply goes out once."""
    count = 10
    db = make_db(tmp_path / "smsd.db")
    numbers = [number(i) for i in range(count)]
    with notify_socket(tmp_path) as listener:
        for n in numbers:
            sim.deliver(n, "PIZZA")
        sim.fault("hang_on", command="AT+CMGD")  # the first delete is received, never answered
        daemon = DaemonProcess(tmp_path, db, [str(sim.link)])
        daemon.start(listener, wait_ready=False)  # READY follows the start-up sweep
        try:
            wait_until(lambda: sim.command_counts.get("AT+CMGD", 0) >= 1, what="the delete")
            daemon.kill()
            assert rows(db, "SELECT state, count(*) FROM incoming GROUP BY 1") == [
                ("routed", count)
            ]  # recorded and routed in the one commit
            assert rows(db, "SELECT count(*) FROM outgoing") == [(2 * count,)]
            assert sim.stats["storage_used"] == count  # committed, none deleted yet
            sim.fault("unhang")
            daemon.start(listener)
            wait_until(lambda: all(len(texts_to(sim, n)) >= 2 for n in numbers), what="replies")
            wait_until(lambda: sim.stats["storage_used"] == 0, what="SIM emptied")
            assert daemon.terminate() == 0
        finally:
            if daemon.alive():
                daemon.kill()
        sent = {n: texts_to(sim, n) for n in numbers}
    assert rows(db, "SELECT count(*) FROM incoming WHERE sender LIKE '+44770092%'") == [(count,)]
    assert rows(db, "SELECT count(*) FROM requests") == [(count,)]
    assert all(len(texts) == 2 for texts in sent.values())  # user code + reply, once each


def test_many_rows_cross_as_one_json_parameter() -> None:
    """An INSERT of one row becomes one over a JSON array; a type JSON would change, a NaN,
    a NUL or bytes keep the statement per row."""
    text = "INSERT INTO t (a, b, c) VALUES (%s, 'x', %s) ON CONFLICT (a) DO NOTHING"
    assert rows_insert(text, {"a": "bigint", "c": "text"}) == (
        "INSERT INTO t (a, b, c) SELECT (v.r->>0)::bigint, 'x', (v.r->>1)::text"
        " FROM jsonb_array_elements(%s::jsonb) AS v(r) ON CONFLICT (a) DO NOTHING"
    )
    assert rows_insert(text, {"a": "bigint", "c": "bytea"}) is None
    assert rows_insert("UPDATE t SET a = %s", {"a": "bigint"}) is None
    assert json_rows([[1, "é", None, 2.5]]) == '[[1, "é", null, 2.5]]'
    assert json_rows([[float("nan")]]) is None
    assert json_rows([["a\x00b"]]) is None
    assert json_rows([[b"raw"]]) is None
