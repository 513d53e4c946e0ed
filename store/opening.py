"""Opening a database for `Store.open`: a SQLite file or a PostgreSQL URL, set up and migrated.

SQLite: the file is created 0600 if new (with its -wal and -shm files private too), opened in
autocommit mode (every transaction explicit), in WAL mode with `synchronous = FULL` and
foreign keys on, then migrated. Read-only: opened with `mode=ro`, and refused unless every
migration is applied already. PostgreSQL: `store.postgres.PgDatabase` (psycopg is imported
only here, only for a URL), migrated, or for read-only checked the same way.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from store.errors import StoreError, StoreUnavailable, translate
from store.logger import get_logger
from store.migrations import MIGRATIONS, applied_migrations, run_migrations

if TYPE_CHECKING:  # psycopg is imported only by processes that open a PostgreSQL URL
    from store.postgres import PgDatabase

__all__ = ["DEFAULT_BUSY_TIMEOUT_MS", "open_postgres", "open_sqlite"]

DEFAULT_BUSY_TIMEOUT_MS = 5000

log = get_logger(__name__)


def open_sqlite(
    path: str | os.PathLike[str], *, busy_timeout_ms: int, create: bool, read_only: bool
) -> tuple[sqlite3.Connection, Path]:
    """The connection to the SQLite file at `path` (or ``sqlite:///path``), and its path."""
    if isinstance(path, str) and path.startswith("sqlite:///"):
        path = path.removeprefix("sqlite://")
    target = Path(path)
    old_umask = os.umask(0o077)  # the -wal and -shm files too are private
    try:
        if not target.exists():
            if read_only or not create:
                raise StoreUnavailable(f"no database at {target}")
            os.close(os.open(target, os.O_CREAT | os.O_RDWR, 0o600))
        conn = sqlite3.connect(
            target.resolve().as_uri() + "?mode=ro" if read_only else target,
            timeout=busy_timeout_ms / 1000,
            check_same_thread=False,
            isolation_level=None,
            uri=read_only,
        )
        try:
            if read_only:
                applied = _check_read_only(conn, target, busy_timeout_ms)
            else:
                _configure(conn, busy_timeout_ms)
                applied = run_migrations(conn)
        except BaseException:
            conn.close()
            raise
    except sqlite3.Error as exc:
        raise translate(exc) from exc
    except OSError as exc:
        raise StoreUnavailable(f"cannot open {target}: {exc.strerror}") from exc
    finally:
        os.umask(old_umask)
    if applied:
        log.info("migrations_applied", names=applied, path=str(target))
    return conn, target


def open_postgres(url: str, *, read_only: bool) -> PgDatabase:
    """A migrated `PgDatabase` at `url` (read-only: checked up to date, nothing written)."""
    from store.postgres import PgDatabase  # psycopg only in processes that use it

    db = PgDatabase(url, read_only=read_only)
    try:
        if read_only:  # as for SQLite: the schema must be up to date, nothing is written
            try:
                done = set(applied_migrations(db))
            except StoreError:  # no migrations table: not an smsd database (yet)
                done = set()
            if any(name not in done for name, _ in MIGRATIONS):
                raise StoreUnavailable("not an up-to-date smsd database (run smsd db migrate)")
            applied = []
        else:
            applied = run_migrations(db)
    except BaseException:
        db.close()
        raise
    if applied:
        log.info("migrations_applied", names=applied, backend="postgresql")
    return db


def _configure(conn: sqlite3.Connection, busy_timeout_ms: int) -> None:
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA foreign_keys = ON")
    # FULL, not NORMAL: a stored message must survive a power cut right after the commit.
    conn.execute("PRAGMA synchronous = FULL")


def _check_read_only(conn: sqlite3.Connection, target: Path, busy_timeout_ms: int) -> list[str]:
    """Set a read-only connection up; fail unless every migration is already applied."""
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    conn.execute("PRAGMA foreign_keys = ON")
    try:
        applied = set(applied_migrations(conn))
    except sqlite3.OperationalError as exc:
        if "no such table" not in str(exc):
            raise
        applied = set()
    if any(name not in applied for name, _ in MIGRATIONS):
        raise StoreUnavailable(f"{target} is not an up-to-date smsd database (run smsd init)")
    return []
