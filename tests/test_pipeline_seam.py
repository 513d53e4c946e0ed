"""The `Pipeline` seam on a real SQLite file: a burst, route, what is left, reloads, listener."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from smsd.pipeline import DeletedCopies, Pipeline
from smsd.settings import Rules
from smsd.testing import StatementLog, make_db, rows
from store import IncomingDraft, Store, StoreError

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
HANDSET = "+447700900123"


class Listener:
    """Counts `replies_queued` calls, as the daemon would wake its workers."""

    def __init__(self) -> None:
        self.calls = 0

    def replies_queued(self) -> None:
        """Count one wake-up."""
        self.calls += 1


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """The test database (business Pizza Place, code PIZZA)."""
    return make_db(tmp_path / "smsd.db")


@pytest.fixture
def store(db: Path) -> Iterator[Store]:
    """The store with a short busy timeout, so a held write lock fails fast."""
    opened = Store.open(db, busy_timeout_ms=100)
    yield opened
    opened.close()


def _draft(text: str, slot: int) -> IncomingDraft:
    return IncomingDraft(
        HANDSET, "international", text, T0, scts=T0, modem="modem0", storage="SM",
        storage_index=slot,
    )  # fmt: skip


def _record(store: Store, text: str, slot: int) -> int:
    (incoming_id,) = store.inbox.record_incoming_many([_draft(text, slot)])
    assert incoming_id is not None
    return incoming_id


def test_burst_releases_records_routes_in_one_commit(store: Store, db: Path) -> None:
    """One transaction: the held key released first, the identical new copy in the same slot
    recorded (not a duplicate) and routed, its own key live; the listener told after it."""
    listener = Listener()
    pipeline = Pipeline(store, Rules(), listener=listener, clock=lambda: T0)
    first = _record(store, "PIZZA", 3)  # then deleted from slot 3: its key is held
    statements = StatementLog()
    store.db.conn.set_trace_callback(statements)
    with pipeline.burst([DeletedCopies("modem0", "SM", (3,))]) as burst:
        (second,) = store.inbox.record_incoming_many([_draft("PIZZA", 3)])
        assert second is not None and listener.calls == 0
        burst.route([first, second])
    store.db.conn.set_trace_callback(None)
    assert [s for s in statements if s.startswith(("BEGIN", "COMMIT"))] == [
        "BEGIN IMMEDIATE",
        "COMMIT",
    ]
    assert [p.incoming_id for p in burst.routed.processed] == [first, second]
    assert listener.calls == 1
    keys = "SELECT id, state, dedupe_key LIKE '%#released:%' FROM incoming ORDER BY id"
    assert rows(db, keys) == [(first, "routed", 1), (second, "routed", 0)]


def test_burst_that_raises_keeps_nothing(store: Store, db: Path) -> None:
    """An error in the burst's block rolls back the release and the record alike."""
    pipeline = Pipeline(store, Rules(), clock=lambda: T0)
    first = _record(store, "PIZZA", 3)
    with pytest.raises(RuntimeError), pipeline.burst([DeletedCopies("modem0", "SM", (3,))]):
        store.inbox.record_incoming_many([_draft("HELP", 4)])
        raise RuntimeError("the modem went away mid-burst")
    keys = "SELECT id, state, dedupe_key LIKE '%#released:%' FROM incoming ORDER BY id"
    assert rows(db, keys) == [(first, "new", 0)]


def test_store_refusal_marks_unrouted_until_route_left(store: Store, db: Path) -> None:
    """A locked database leaves the message 'new' and `unrouted` set; `route_left` clears it."""
    pipeline = Pipeline(store, Rules(), clock=lambda: T0)
    incoming_id = _record(store, "PIZZA", 1)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreError):
            pipeline.route([incoming_id])
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert pipeline.unrouted
    assert rows(db, "SELECT state FROM incoming") == [("new",)]
    done = pipeline.route_left()
    assert [p.incoming_id for p in done] == [incoming_id]
    assert not pipeline.unrouted


def test_reload_changes_the_rules_senders_are_read_with(store: Store) -> None:
    """A five-digit sender is a short code under the default rules, national after a reload."""
    pipeline = Pipeline(store, Rules())
    assert pipeline.normalize_sender("84444", 0) == ("84444", "shortcode")
    pipeline.reload(Rules(short_code_max_len=4))
    assert pipeline.rules.short_code_max_len == 4
    assert pipeline.normalize_sender("84444", 0)[1] == "national"


def test_no_reply_no_wake_up(store: Store) -> None:
    """A message that queues nothing (an alphanumeric sender) does not wake the workers."""
    listener = Listener()
    pipeline = Pipeline(store, Rules(), listener=listener, clock=lambda: T0)
    draft = IncomingDraft("VODAFONE", "alphanumeric", "Your bill", T0, scts=T0)
    ids = [i for i in store.inbox.record_incoming_many([draft]) if i is not None]
    routed = pipeline.route(ids)
    assert not routed.queued and listener.calls == 0
