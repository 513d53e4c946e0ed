"""The connection handle the store's parts write through: a thin face over `sqlite3`.

What the store used of sqlite-utils' ``Database`` (``conn``, ``execute``, ``query``,
``table_names``), without importing sqlite-utils: its import loads click, dateutil, tabulate
and pluggy, and scans every installed distribution for plugins, in every process that opens
the store (the daemon, each CLI command).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

__all__ = ["Database"]


class Database:
    """One SQLite connection; statements run as given (transactions belong to the store)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Cursor:
        """Run one statement; the cursor."""
        return self.conn.execute(sql, parameters)

    def query(
        self, sql: str, params: Sequence[Any] | dict[str, Any] = ()
    ) -> Iterator[dict[str, Any]]:
        """The rows of a query, each as a dict keyed by column name."""
        cursor = self.conn.execute(sql, params)
        keys = [column[0] for column in cursor.description]
        for row in cursor:
            yield dict(zip(keys, row, strict=True))

    def table_names(self) -> list[str]:
        """The tables in the database, in creation order."""
        rows = self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return [name for (name,) in rows]
