"""The `Pipeline` seam on a real SQLite file: route, what is left, rules reloads, listener."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from smsd.pipeline import DeletedCopies, Pipeline
from smsd.settings import Rules
from smsd.testing import make_db, rows
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


def _record(store: Store, text: str, slot: int) -> int:
    draft = IncomingDraft(
        HANDSET, "international", text, T0, scts=T0, modem="modem0", storage="SM",
        storage_index=slot,
    )  # fmt: skip
    (incoming_id,) = store.inbox.record_incoming_many([draft])
    assert incoming_id is not None
    return incoming_id


def test_route_releases_routes_and_tells_the_listener(store: Store, db: Path) -> None:
    """One call: the copy's key released, the message routed, the listener told once."""
    listener = Listener()
    pipeline = Pipeline(store, Rules(), listener=listener, clock=lambda: T0)
    incoming_id = _record(store, "PIZZA", 3)
    routed = pipeline.route([incoming_id], release=DeletedCopies("modem0", "SM", (3,)))
    assert [p.incoming_id for p in routed.processed] == [incoming_id]
    assert routed.queued and listener.calls == 1
    assert rows(db, "SELECT state, dedupe_key IS NULL FROM incoming") == [("routed", 0)]
    assert rows(db, "SELECT kind FROM outgoing ORDER BY id") == [("user_code",), ("reply",)]


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
