"""PostgreSQL's wire use: statements in one simple query, transaction statements deferred.

`store.pg_script`: a burst's statements go to the server as one query with parameters bound by
psycopg on the client, and BEGIN / SAVEPOINT / RELEASE ride in front of the next statement.
These tests count the queries that reach the server and check that hostile text survives
client-side binding byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from store import Store, StoreError, StoreUnavailable
from store.batch import Batch, query_many, write_later, write_many
from store.pg_script import Deferred
from store.postgres import PgDatabase

if TYPE_CHECKING:
    from smsd.testing.pgcluster import PgCluster


def test_a_savepoint_released_before_anything_was_sent_costs_nothing() -> None:
    deferred = Deferred()
    deferred.begin(["BEGIN"])
    deferred.savepoint("sp1")
    deferred.release("sp1")
    assert deferred.begun and deferred.take() == ["BEGIN"]
    assert not deferred.begun and deferred.take() == []


def test_rolling_back_to_an_unsent_savepoint_drops_it_and_what_followed() -> None:
    deferred = Deferred()
    deferred.savepoint("sp1")
    deferred.savepoint("sp2")
    assert deferred.rollback_to("sp1") is True  # nothing reached the server: nothing to undo
    deferred.release("sp1")  # as `StoreBase.savepoint` follows ROLLBACK TO: nothing to send
    assert deferred.take() == []
    deferred.savepoint("sp3")
    deferred.take()  # sent with a statement
    deferred.release("sp3")
    assert deferred.texts == ["RELEASE sp3"]
    assert deferred.rollback_to("sp1") is False  # sent: ROLLBACK TO must go to the server
    assert deferred.texts == []


class Counted:
    """Every query text the store's connection sends (each is one round trip)."""

    def __init__(self, db: PgDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sent: list[str] = []
        make = db._cursor

        def cursor() -> psycopg.ClientCursor[tuple[Any, ...]]:
            cur = make()
            execute = cur.execute

            def counted(query: Any, *args: Any, **kwargs: Any) -> Any:
                self.sent.append(str(query))
                return execute(query, *args, **kwargs)

            monkeypatch.setattr(cur, "execute", counted)
            return cur

        monkeypatch.setattr(db, "_cursor", cursor)


@pytest.fixture
def store(pg_cluster: PgCluster) -> Iterator[Store]:
    with Store.open(pg_cluster.fresh_url()) as s:
        s.db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, n INTEGER)")
        yield s


def _db(store: Store) -> PgDatabase:
    assert isinstance(store.db, PgDatabase)
    return store.db


def _bodies(store: Store) -> list[str]:
    return [str(r["body"]) for r in store.db.query("SELECT body FROM notes ORDER BY id")]


def test_a_write_transaction_is_two_round_trips_and_keeps_the_writer_lock(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted = Counted(_db(store), monkeypatch)
    with store.transaction(), store.savepoint():
        store.db.execute("INSERT INTO notes (body) VALUES (?)", ["a"])
        locks = store.db.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
        ).fetchone()
    assert locks is not None and locks[0] == 1  # the writer's advisory lock was taken
    assert len(counted.sent) == 3  # BEGIN+lock+SAVEPOINT+INSERT; the count; RELEASE+COMMIT
    assert counted.sent[0].startswith("BEGIN; SELECT pg_advisory_xact_lock(")
    assert counted.sent[-1] == "RELEASE sp2; COMMIT"
    assert _bodies(store) == ["a"]


def test_a_transaction_that_sent_nothing_costs_no_round_trip(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted = Counted(_db(store), monkeypatch)
    with store.transaction(), store.savepoint():
        pass
    with store.transaction(write=False):
        pass
    assert counted.sent == []
    assert not store.db.conn.in_transaction


def test_a_savepoint_undoes_only_its_block(store: Store) -> None:
    with store.transaction():
        store.db.execute("INSERT INTO notes (body) VALUES (?)", ["kept"])
        with pytest.raises(RuntimeError), store.savepoint():
            store.db.execute("INSERT INTO notes (body) VALUES (?)", ["undone"])
            raise RuntimeError("the block failed after its insert reached the server")
        with pytest.raises(RuntimeError), store.savepoint():
            raise RuntimeError("the block failed before sending anything")
        store.db.execute("INSERT INTO notes (body) VALUES (?)", ["after"])
    assert _bodies(store) == ["kept", "after"]


def test_a_failing_first_statement_rolls_back_and_the_connection_carries_on(
    store: Store,
) -> None:
    with pytest.raises(StoreError), store.transaction():
        store.db.execute("INSERT INTO notes (body, n) VALUES (?, ?)", ["x", "not a number"])
    assert not store.db.conn.in_transaction
    with store.transaction():
        store.db.execute("INSERT INTO notes (body) VALUES (?)", ["next"])
    assert _bodies(store) == ["next"]


def test_a_failing_batch_writes_none_of_its_statements(store: Store) -> None:
    with pytest.raises(StoreError), store.transaction():
        write_many(
            store,
            [
                Batch("INSERT INTO notes (body, n) VALUES (?, ?)", [("a", 1), ("b", 2)]),
                Batch("INSERT INTO notes (body, n) VALUES (?, ?)", [("c", "three")]),
            ],
        )
    assert _bodies(store) == []


def test_a_write_for_later_rides_with_the_commit(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted = Counted(_db(store), monkeypatch)
    with store.transaction():
        write_later(store, "INSERT INTO notes (body) VALUES (?)", ["later"])
        assert counted.sent == []  # nothing sent yet
    assert len(counted.sent) == 1 and counted.sent[0].endswith("; COMMIT")
    assert _bodies(store) == ["later"]


def test_a_write_for_later_goes_before_the_next_statement_or_not_at_all(store: Store) -> None:
    with store.transaction():
        write_later(store, "INSERT INTO notes (body) VALUES (?)", ["first"])
        seen = store.db.execute("SELECT count(*) FROM notes").fetchone()
    assert seen == (1,)
    with pytest.raises(RuntimeError), store.transaction():
        write_later(store, "INSERT INTO notes (body) VALUES (?)", ["rolled back"])
        raise RuntimeError("the burst failed")
    assert _bodies(store) == ["first"]
    with pytest.raises(StoreError), store.transaction():
        write_later(store, "INSERT INTO notes (body, n) VALUES (?, ?)", ["bad", "not a number"])
    assert _bodies(store) == ["first"] and not store.db.conn.in_transaction
    with pytest.raises(StoreError, match="open transaction"):
        write_later(store, "INSERT INTO notes (body) VALUES (?)", ["outside"])


def test_a_read_only_store_refuses_writes_without_session_state(pg_cluster: PgCluster) -> None:
    """Each of its transactions (and each statement outside one) is READ ONLY by itself: no
    session SET that pgbouncer in transaction mode would hand on to the daemon's writes."""
    url = pg_cluster.fresh_url()
    Store.open(url).close()
    with Store.open(url, read_only=True) as store:
        assert store.directory.list_businesses() == []
        with pytest.raises(StoreUnavailable, match="read-only"):
            store.directory.add_business("Nope")
        with pytest.raises(StoreUnavailable, match="read-only"):
            store.db.execute("INSERT INTO businesses (name, created_at) VALUES ('x', 'y')")
        assert not store.db.conn.in_transaction  # the refused statement was rolled back
        assert store.db.execute("SELECT count(*) FROM businesses").fetchone() == (0,)
        raw = _db(store)._conn
        assert raw.execute("SHOW default_transaction_read_only").fetchone() == ("off",)


# Text that came from a handset: quotes, backslashes, percent signs, semicolons, SQL, emoji,
# control characters. Only NUL is out: PostgreSQL's text type cannot hold it at all.
HOSTILE = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
) | st.sampled_from(["'", "\\'", "'; DROP TABLE notes; --", "%s %(x)s %%", "$$", "\\x00", "E'\\n'"])


def test_hostile_text_crosses_client_side_binding_unchanged(pg_cluster: PgCluster) -> None:
    with Store.open(pg_cluster.fresh_url()) as store:
        store.db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, n INTEGER)")

        @settings(max_examples=80, deadline=None)
        @given(texts=st.lists(HOSTILE, min_size=1, max_size=4))
        def crosses(texts: list[str]) -> None:
            store.db.execute("DELETE FROM notes")
            rows = [(text, i) for i, text in enumerate(texts)]
            with store.transaction():
                (ids,) = write_many(
                    store, [Batch("INSERT INTO notes (body, n) VALUES (?, ?)", rows, ids=True)]
                )
                store.db.execute("INSERT INTO notes (body, n) VALUES (?, ?)", [texts[0], -1])
            (read,) = query_many(
                store,
                [("SELECT body FROM notes WHERE body = ?1 OR n >= 0 ORDER BY id", [texts[0]])],
            )
            assert [r["body"] for r in read] == [*texts, texts[0]]
            assert len(ids) == len(texts) and all(i is not None for i in ids)
            assert store.db.execute("SELECT count(*) FROM notes").fetchone() == (len(texts) + 1,)

        crosses()
