"""Recording a burst returns the rows as stored, so routing need not read them again.

`Inbox.record_and_read` (through `store.batch.insert_rows`: ``INSERT ... RETURNING *``) must
give exactly what `get_incoming` reads afterwards, on both backends, duplicates and multipart
parts included.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from store import Store
from store.batch import Batch, insert_rows
from store.models import IncomingDraft

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def _draft(sender: str, text: str, slot: int, **kwargs: object) -> IncomingDraft:
    return IncomingDraft(sender, "international", text, T0, scts=T0 + timedelta(seconds=slot),
                         modem="modem0", storage="SM", storage_index=slot, **kwargs)  # type: ignore[arg-type]  # fmt: skip


def test_a_recorded_burst_comes_back_as_stored(db_target: str) -> None:
    """New messages come back equal to a fresh read; a copy recorded before, or twice in the
    burst, comes back as None (a duplicate), as record_incoming_many's ids say."""
    with Store.open(db_target) as store:
        earlier = _draft("+447700900001", "pizza", 1)
        assert store.inbox.record_and_read([earlier])[0] is not None
        burst = [_draft("+447700900002", "it's 'quoted' \\ %s", 2), earlier,
                 _draft("+447700900003", "emoji \U0001f355", 3),
                 _draft("+447700900003", "emoji \U0001f355", 3)]  # fmt: skip
        with store.transaction():
            stored = store.inbox.record_and_read(burst)
        assert [m is None for m in stored] == [False, True, False, True]
        for message in stored:
            if message is not None:
                assert message == store.inbox.get_incoming(message.id)
                assert message.state == "new"


def test_a_multipart_burst_comes_back_with_the_assembled_message(db_target: str) -> None:
    """The part that completes a message comes back as the assembled message; the other part
    as stored (state 'partial')."""
    with Store.open(db_target) as store:
        parts = [_draft("+447700900004", "hello ", 1, concat=(9, 2, 1)),
                 _draft("+447700900004", "world", 2, concat=(9, 2, 2))]  # fmt: skip
        first, whole = store.inbox.record_and_read(parts)
        assert first is not None and whole is not None
        assert first.state == "partial" and whole.text == "hello world"
        assert whole == store.inbox.get_incoming(whole.id)


def test_insert_rows_returns_defaults_and_maps_conflicts_by_key(db_target: str) -> None:
    """Each row as stored (ids and defaults filled in); a key already there, or repeated in
    the batch, inserted once only: None for the rows that inserted nothing."""
    with Store.open(db_target) as store:
        store.db.execute(
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, k TEXT UNIQUE, n INTEGER,"
            " state TEXT NOT NULL DEFAULT 'fresh')"
        )
        store.db.execute("INSERT INTO notes (k, n) VALUES ('b', 0)")
        sql = "INSERT INTO notes (k, n) VALUES (?, ?) ON CONFLICT (k) DO NOTHING"
        rows = [("a", 1), ("b", 2), ("c", 3), ("a", 4)]
        with store.transaction():
            got = insert_rows(store, Batch(sql, rows, key=("k", 0)))
        assert [None if r is None else (r["k"], r["n"], r["state"]) for r in got] == [
            ("a", 1, "fresh"),
            None,
            ("c", 3, "fresh"),
            None,
        ]
        ids = {r["k"]: r["id"] for r in got if r is not None}
        found = store.db.execute("SELECT k, id FROM notes WHERE k IN ('a', 'c')").fetchall()
        assert dict(found) == ids


@pytest.mark.parametrize("count", [1, 3])
def test_insert_rows_without_a_key_returns_every_row(db_target: str, count: int) -> None:
    """Without ON CONFLICT every row inserts and comes back, in order (one or many rows)."""
    with Store.open(db_target) as store:
        store.db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, n INTEGER)")
        with store.transaction():
            got = insert_rows(store, Batch("INSERT INTO notes (n) VALUES (?)",
                                           [(i,) for i in range(count)]))  # fmt: skip
        assert [r["n"] for r in got if r is not None] == list(range(count))
