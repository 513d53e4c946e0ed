"""The connection, its lock and transactions (opening one: `store.opening`; sqlite3's errors
translated by `store.errors.translate`).

`StoreBase` owns the connection; `Part` is what each of the store's parts (`store.inbox`,
`store.outbox`, ...) is built on: a reference to that core plus three small query helpers.

One `sqlite3` connection per `Store`, shared by the daemon's threads (`check_same_thread=False`)
under one re-entrant lock: SQLite serialises writers anyway, and one connection keeps
`transaction()` simple. The connection is in autocommit mode and every transaction is explicit,
so nothing commits behind our back (sqlite-utils' `execute` joins an open transaction).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from store.backend import Connection, Cursor, Database, is_postgres_url
from store.connection import Database as SqliteDatabase
from store.errors import Conflict, InvalidInput, StoreError, StoreUnavailable, translate
from store.opening import DEFAULT_BUSY_TIMEOUT_MS, open_postgres, open_sqlite

if TYPE_CHECKING:  # psycopg is imported only by processes that open a PostgreSQL URL
    from store.postgres import PgDatabase

__all__ = ["Part", "StoreBase", "fetch_rows", "from_ts", "to_ts"]


def to_ts(value: datetime) -> str:
    """A timezone-aware datetime as the ISO-8601 UTC text stored in SQLite."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"timestamp must be timezone-aware, got {value!r}")
    return _utc_text(value.astimezone(UTC))


@lru_cache(maxsize=256)
def _utc_text(value: datetime) -> str:
    # Cached: a burst writes the same few instants (its clock reading, the messages' arrival)
    # over and over, and `isoformat` costs more than the lookup. Only UTC datetimes come
    # here: equal ones are the same instant, hence the same text (two equal times of one
    # zone may not be, on either side of a DST change).
    return value.isoformat(timespec="microseconds")


def from_ts(value: str | None) -> datetime | None:
    """Stored ISO-8601 text back to an aware UTC datetime (None stays None)."""
    return None if value is None else datetime.fromisoformat(value)


def fetch_rows(store: StoreBase, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Rows as dicts straight from sqlite3, in (or joining) a read transaction.

    The routing hot path reads through this instead of sqlite-utils' `query`, which wraps
    every SELECT in a SAVEPOINT and a RELEASE (three statements instead of one). sqlite3
    keeps the prepared statement of each constant SQL text in its statement cache.
    """
    with store.transaction(write=False) as db:
        cur = db.conn.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


class StoreBase:
    """Connection owner: open, close, `transaction()`, `savepoint()`, `backup()`."""

    db: Database
    path: Path | None
    target: str
    dialect: str

    host: str

    def __init__(
        self, conn: sqlite3.Connection | PgDatabase, path: Path | str, *, host: str | None = None
    ) -> None:
        #: This gateway host's name: on its claims of outgoing rows and its modems' status.
        #: (uname's node name is what socket.gethostname() returns, without loading socket.)
        self.host = host or os.uname().nodename
        if not isinstance(conn, sqlite3.Connection):
            self.db = conn
            self.path, self.target, self.dialect = None, str(path), "postgresql"
        else:
            self.db = SqliteDatabase(conn)
            self.path, self.target, self.dialect = Path(path), str(path), "sqlite"
        self._lock = threading.RLock()
        self._depth = 0

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        create: bool = True,
        read_only: bool = False,
        host: str | None = None,
    ) -> Self:
        """Open the database at `path`, migrated: a SQLite file (created 0600 if new, in WAL
        mode; a path or ``sqlite:///path``) or a ``postgresql://`` URL (see `store.backend`).

        `create=False`: a missing file is `StoreUnavailable` and nothing is created.
        `read_only=True` (implies `create=False`): no write is possible and none is made; the
        schema must already be up to date (`StoreUnavailable` otherwise). `host` names this
        gateway host (default: the machine's host name). How: `store.opening`.
        """
        if is_postgres_url(path):
            return cls(open_postgres(str(path), read_only=read_only), str(path), host=host)
        conn, target = open_sqlite(
            path, busy_timeout_ms=busy_timeout_ms, create=create, read_only=read_only
        )
        return cls(conn, target, host=host)

    def close(self) -> None:
        """Close the connection (checkpointing the WAL)."""
        with self._lock:
            self.db.conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Database]:
        """Hold the lock and one SQLite transaction; nested calls join the outer one.

        `write=True` takes the write lock at once (`BEGIN IMMEDIATE`) so a read-then-write
        cannot fail half-way with SQLITE_BUSY. sqlite3 errors leave as `StoreError`s.
        """
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self.db
                finally:
                    self._depth -= 1
                return
            conn = self.db.conn
            try:
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            except sqlite3.Error as exc:
                raise translate(exc) from exc
            self._depth = 1
            try:
                yield self.db
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                _rollback(conn)
                raise translate(exc) from exc
            except BaseException:
                _rollback(conn)
                raise
            finally:
                self._depth = 0

    @contextlib.contextmanager
    def savepoint(self) -> Iterator[Database]:
        """A SAVEPOINT inside the current (or a new) transaction: if the block raises, only
        its own writes are undone and the exception goes on; the outer transaction stays open.

        `StoreUnavailable` if SQLite already rolled the whole transaction back (disk full,
        I/O error): nothing is left to save, and the caller must abandon the transaction.
        """
        with self.transaction() as db:
            conn = db.conn
            if not conn.in_transaction:
                raise StoreUnavailable("the transaction was rolled back by SQLite")
            name = f"sp{self._depth}"
            try:
                conn.execute(f"SAVEPOINT {name}")
            except sqlite3.Error as exc:
                raise translate(exc) from exc
            try:
                yield db
            except BaseException:
                _rollback_to(conn, name)
                raise
            try:
                conn.execute(f"RELEASE {name}")
            except sqlite3.Error as exc:
                raise translate(exc) from exc

    def data_version(self) -> int:
        """SQLite's `PRAGMA data_version`: changes when another connection commits."""
        if self.dialect == "postgresql":
            from store.postgres import PgDatabase

            assert isinstance(self.db, PgDatabase)
            with self._lock:
                return self.db.data_version()
        with self._lock:
            try:
                row = self.db.conn.execute("PRAGMA data_version").fetchone()
            except sqlite3.Error as exc:
                raise translate(exc) from exc
        return int(row[0])

    def limit_pages(self, pages: int) -> int:
        """`PRAGMA max_page_count` on this connection (a test knob for "disk full").

        SQLite never sets it below the current size; returns the limit in effect.
        Not available on PostgreSQL (`StoreError`).
        """
        self._sqlite_only("limit_pages")
        with self._lock:
            try:
                row = self.db.conn.execute(f"PRAGMA max_page_count = {int(pages)}").fetchone()
            except sqlite3.Error as exc:
                raise translate(exc) from exc
        return int(row[0])

    def _sqlite_only(self, what: str) -> None:
        if self.dialect != "sqlite":
            raise StoreError(f"{what}: SQLite only, not on {self.dialect}")

    @property
    def depth(self) -> int:
        """How many `transaction()` blocks are open on this connection (0: none)."""
        return self._depth

    def backup(self, target: str | os.PathLike[str]) -> Path:
        """Copy the live database to a new file `target` (0600), consistent and online.

        Uses SQLite's online backup API, so the daemon may keep writing meanwhile; refuses to
        overwrite an existing file. SQLite only: back PostgreSQL up with its own tools.
        """
        self._sqlite_only("backup (use pg_dump or pg_basebackup)")
        path = Path(target)
        old_umask = os.umask(0o077)
        try:
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            except FileExistsError as exc:
                raise Conflict(f"{path} exists; choose a new file") from exc
            except OSError as exc:  # the caller's path, not the database: a user error
                raise InvalidInput(f"cannot create {path}: {exc.strerror}") from exc
            os.close(fd)
            try:
                dest = sqlite3.connect(path)
                try:
                    with self._lock:
                        source = self.db.conn
                        assert isinstance(source, sqlite3.Connection)
                        source.backup(dest)
                finally:
                    dest.close()
            except sqlite3.Error as exc:
                with contextlib.suppress(OSError):
                    path.unlink()
                raise translate(exc) from exc
        finally:
            os.umask(old_umask)
        return path


class Part:
    """One part of the store (`store.inbox`, `store.outbox`, ...): it queries through `core`.

    A part holds no state of its own; parts that need another part are handed it when the
    `Store` builds them.
    """

    def __init__(self, core: StoreBase) -> None:
        self.core = core

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.core.transaction(write=False) as db:
            return list(db.query(sql, params))

    def _one(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        with self.core.transaction() as db:
            return db.execute(sql, params)


def _rollback_to(conn: Connection, name: str) -> None:
    """Undo a savepoint's writes; if SQLite already dropped the transaction, say so."""
    try:
        conn.execute(f"ROLLBACK TO {name}")
        conn.execute(f"RELEASE {name}")
    except (sqlite3.Error, StoreError) as exc:
        raise StoreUnavailable(f"the transaction was rolled back by SQLite: {exc}") from exc


def _rollback(conn: Connection) -> None:
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error, StoreError):
            conn.execute("ROLLBACK")
