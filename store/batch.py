"""Several statements in one round trip: the burst routing's reads and writes (`query_many`,
`write_many`).

On PostgreSQL every statement is a round trip to the server, and the server shares the
machine's cores with us: what costs is the number of waits, not the statements. These two
calls send a list of statements together (psycopg's pipeline mode) and wait once. SQLite runs
in this process, where a statement costs no round trip, so the same calls simply run the
statements one after the other: the one fork by backend, here, and nowhere above.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Protocol, cast

from store.base import StoreBase, fetch_rows
from store.batch_types import Batch
from store.errors import StoreError, translate

__all__ = ["Batch", "Pipelined", "insert_rows", "query_many", "write_later", "write_many"]


class Pipelined(Protocol):
    """What `store.postgres.PgDatabase` offers for batches (typed here: it imports us)."""

    def query_many(
        self, queries: Sequence[tuple[str, Sequence[Any]]]
    ) -> list[list[dict[str, Any]]]:
        """The rows of several SELECTs in one round trip."""

    def write_many(self, batches: Sequence[Batch]) -> list[list[int | None]]:
        """Several batches in one round trip."""

    def insert_rows(self, batch: Batch) -> list[dict[str, Any] | None]:
        """A batch's INSERT returning each row's whole new row, in one round trip."""

    def defer(self, sql: str, params: Sequence[Any]) -> None:
        """Send a statement with the transaction's next one."""


def _postgres(core: StoreBase) -> Pipelined | None:
    return cast(Pipelined, core.db) if core.dialect == "postgresql" else None


def query_many(
    core: StoreBase, queries: Sequence[tuple[str, Sequence[Any]]]
) -> list[list[dict[str, Any]]]:
    """The rows of each query, read in (or joining) one read transaction."""
    with core.transaction(write=False):
        pg = _postgres(core)
        if pg is not None:
            return pg.query_many(queries)
        return [fetch_rows(core, sql, params) for sql, params in queries]


def write_many(core: StoreBase, batches: Sequence[Batch]) -> list[list[int | None]]:
    """Run each batch's statement for each of its rows, in order, in (or joining) one write
    transaction. For a batch with `ids`: the id each row inserted (None if it inserted none,
    as ``ON CONFLICT DO NOTHING`` does); for the others an empty list."""
    with core.transaction():
        pg = _postgres(core)
        if pg is not None:
            return pg.write_many(batches)
        conn = core.db.conn
        assert isinstance(conn, sqlite3.Connection)
        try:
            return [_sqlite_batch(conn, batch) for batch in batches]
        except sqlite3.Error as exc:
            raise translate(exc) from exc


def _sqlite_batch(conn: sqlite3.Connection, batch: Batch) -> list[int | None]:
    if not batch.ids:
        conn.executemany(batch.sql, batch.rows)
        return []
    out: list[int | None] = []
    for row in batch.rows:
        cur = conn.execute(batch.sql, row)
        out.append(int(cur.lastrowid) if cur.rowcount > 0 and cur.lastrowid else None)
    return out


def write_later(core: StoreBase, sql: str, params: Sequence[Any]) -> None:
    """A write whose outcome nobody reads, inside the caller's write transaction: on SQLite it
    runs now; on PostgreSQL it goes in front of the transaction's next statement (or its
    COMMIT), so it costs no round trip of its own. Its error, if any, fails that statement
    and so the transaction, as it would have failed the transaction here."""
    if not core.depth:
        raise StoreError("write_later needs an open transaction")
    pg = _postgres(core)
    if pg is not None:
        pg.defer(sql, params)
        return
    conn = core.db.conn
    assert isinstance(conn, sqlite3.Connection)
    try:
        conn.execute(sql, params)
    except sqlite3.Error as exc:
        raise translate(exc) from exc


def insert_rows(core: StoreBase, batch: Batch) -> list[dict[str, Any] | None]:
    """Run an INSERT batch and return each row as stored (``RETURNING *``: defaults and ids
    filled in), None where an ON CONFLICT DO NOTHING inserted nothing (`Batch.key` tells the
    rows apart, as for `write_many`). On PostgreSQL one statement and one round trip, so a
    caller that needs the rows reads nothing again."""
    with core.transaction():
        pg = _postgres(core)
        if pg is not None:
            return pg.insert_rows(replace(batch, whole=True))
        conn = core.db.conn
        assert isinstance(conn, sqlite3.Connection)
        out: list[dict[str, Any] | None] = []
        try:
            for row in batch.rows:
                cur = conn.execute(batch.sql + " RETURNING *", row)
                found = cur.fetchone()
                names = [d[0] for d in cur.description or ()]
                out.append(None if found is None else dict(zip(names, found, strict=True)))
        except sqlite3.Error as exc:
            raise translate(exc) from exc
        return out
