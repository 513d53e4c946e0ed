"""Move a gateway from its SQLite file to PostgreSQL: copy every row, then prove the copy.

`copy_store(source, dest)` copies each table of a SQLite `Store` into an empty, migrated
PostgreSQL `Store` (same migrations applied on both sides, else `Conflict`), with the
destination's triggers off (the copied rows bring their events and totals along), parents before
children (from SQLite's foreign-key lists), a self-reference (a multipart part's `part_of`)
filled in a second pass, with PostgreSQL's COPY. Identity sequences then continue after the
largest id. Finally every table is read back on both sides in primary-key order: the row
counts and a SHA-256 over the rows must be equal, or `StoreError` says which table differs.

The source should not be written meanwhile: stop the daemon first (DEPLOYING.md).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from store.errors import Conflict, InvalidInput, StoreError
from store.migrations import applied_migrations
from store.postgres import PgDatabase
from store.store import Store

__all__ = ["TableCopy", "copy_store", "table_checksum", "verify_copy"]

_BATCH = 5000


@dataclass(frozen=True)
class TableCopy:
    """One table's copy: rows on each side and the checksum both sides share."""

    table: str
    rows: int
    checksum: str


def copy_store(source: Store, dest: Store) -> list[TableCopy]:
    """Copy every row of SQLite `source` into empty PostgreSQL `dest`; verified (see module)."""
    src, pg = _sqlite(source), dest.db
    if not isinstance(pg, PgDatabase):
        raise InvalidInput("the destination must be a postgresql:// database")
    if applied_migrations(src) != applied_migrations(pg):
        raise Conflict("source and destination are at different migrations: migrate both")
    tables = _tables_in_order(src)
    for table in tables:
        if pg.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None:  # noqa: S608
            raise Conflict(f"destination table {table} is not empty")
    with dest.transaction():
        for table in tables:  # rows arrive with their events and totals: no trigger may fire
            pg.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        for table in tables:
            _copy_table(src, pg, table)
        for table in tables:
            _fill_self_references(src, pg, table)
            _continue_identity(pg, src, table)
        for table in tables:
            pg.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    return verify_copy(source, dest)


def verify_copy(source: Store, dest: Store) -> list[TableCopy]:
    """Row counts and checksums of every table, equal on both sides; else `StoreError`."""
    src, pg = _sqlite(source), dest.db
    if not isinstance(pg, PgDatabase):
        raise InvalidInput("the destination must be a postgresql:// database")
    return [_verify(src, pg, table) for table in _tables_in_order(src)]


def _sqlite(store: Store) -> sqlite3.Connection:
    conn = store.db.conn
    if not isinstance(conn, sqlite3.Connection):
        raise InvalidInput("the source must be a SQLite file")
    return conn


def _tables_in_order(src: sqlite3.Connection) -> list[str]:
    """User tables (not `migrations`), each after the tables it references."""
    names = [
        str(r[0])
        for r in src.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
            " AND name NOT LIKE 'sqlite_%' AND name != 'migrations' ORDER BY name"
        )
    ]
    parents = {
        name: {str(r[2]) for r in src.execute(f"PRAGMA foreign_key_list({name})")} - {name}
        for name in names
    }
    ordered: list[str] = []
    while len(ordered) < len(names):
        ready = [n for n in names if n not in ordered and parents[n] <= set(ordered)]
        if not ready:
            raise StoreError(f"foreign keys form a cycle among {sorted(set(names) - set(ordered))}")
        ordered.extend(ready)
    return ordered


def _columns(src: sqlite3.Connection, table: str) -> tuple[list[str], list[str]]:
    """(all columns, primary-key columns) of `table`."""
    info = list(src.execute(f"PRAGMA table_info({table})"))
    columns = [str(r[1]) for r in info]
    pk = [str(r[1]) for r in sorted(info, key=lambda r: r[5]) if r[5]]
    return columns, pk or columns


def _self_columns(src: sqlite3.Connection, table: str) -> list[str]:
    return [str(r[3]) for r in src.execute(f"PRAGMA foreign_key_list({table})") if r[2] == table]


def _copy_table(src: sqlite3.Connection, pg: PgDatabase, table: str) -> None:
    columns, _ = _columns(src, table)
    deferred = set(_self_columns(src, table))
    select = ", ".join("NULL" if c in deferred else c for c in columns)
    with pg.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in src.execute(f"SELECT {select} FROM {table}"):  # noqa: S608 - names from schema
            copy.write_row(row)


def _fill_self_references(src: sqlite3.Connection, pg: PgDatabase, table: str) -> None:
    _, pk = _columns(src, table)
    for column in _self_columns(src, table):
        rows = src.execute(
            f"SELECT {column}, {', '.join(pk)} FROM {table} WHERE {column} IS NOT NULL"  # noqa: S608
        ).fetchall()
        where = " AND ".join(f"{k} = ?" for k in pk)
        for row in rows:
            pg.execute(f"UPDATE {table} SET {column} = ? WHERE {where}", row)  # noqa: S608


def _continue_identity(pg: PgDatabase, src: sqlite3.Connection, table: str) -> None:
    _, pk = _columns(src, table)
    if pk != ["id"]:
        return
    row = pg.execute("SELECT pg_get_serial_sequence(?, 'id')", (table,)).fetchone()
    if row is None or row[0] is None:
        return
    pg.execute(
        f"SELECT setval(?, coalesce((SELECT max(id) FROM {table}), 0) + 1, false)",  # noqa: S608
        (row[0],),
    )


def table_checksum(rows: Iterable[Sequence[Any]]) -> tuple[int, str]:
    """(row count, checksum): the sum mod 2**256 of each row's SHA-256 over its values by
    type and text, so it does not depend on the order rows come in (collations differ)."""
    total = count = 0
    for row in rows:
        count += 1
        digest = hashlib.sha256()
        for value in row:
            kind = "n" if value is None else type(value).__name__[0]
            text = bytes(value).hex() if isinstance(value, bytes | memoryview) else repr(value)
            digest.update(f"{kind}{len(text)}:{text}".encode())
        total = (total + int.from_bytes(digest.digest())) % (1 << 256)
    return count, f"{total:064x}"


def _verify(src: sqlite3.Connection, pg: PgDatabase, table: str) -> TableCopy:
    columns, _ = _columns(src, table)
    select = f"SELECT {', '.join(columns)} FROM {table}"  # noqa: S608 - names from the schema
    ours = table_checksum(src.execute(select))
    theirs = table_checksum(pg.stream(select))
    if ours != theirs:
        raise StoreError(
            f"copy of {table} differs: {ours[0]} rows in SQLite, {theirs[0]} in PostgreSQL"
            + ("" if ours[0] != theirs[0] else " (same count, different content)")
        )
    return TableCopy(table, ours[0], ours[1])
