"""The DB-API cursor surface the store's parts use, over a psycopg cursor (`store.postgres`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

__all__ = ["PgCursor"]


class PgCursor:
    """The DB-API cursor surface the store uses, over a psycopg cursor."""

    def __init__(self, cur: psycopg.Cursor[tuple[Any, ...]], *, returning: bool = False) -> None:
        self._cur = cur
        self._id: int | None = None
        if returning:  # the RETURNING id the adapter added: read it now, hide the row
            row = cur.fetchone()
            self._id = None if row is None else int(row[0])
        self._hidden = returning

    @property
    def rowcount(self) -> int:
        """Rows changed by the statement (or -1)."""
        return self._cur.rowcount

    @property
    def lastrowid(self) -> int | None:
        """The id the INSERT drew from its table's identity column; None for any other
        statement. Not ``lastval()``: that reads the session's last sequence value, which
        through pgbouncer in transaction mode may be another client's."""
        return self._id if self._hidden else None

    @property
    def description(self) -> Sequence[Any] | None:
        """Column descriptions (``d[0]`` is the name)."""
        return self._cur.description

    def fetchone(self) -> tuple[Any, ...] | None:
        """The next row, or None."""
        return self._cur.fetchone() if self._cur.description and not self._hidden else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        """Every remaining row."""
        return self._cur.fetchall() if self._cur.description and not self._hidden else []

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.fetchall())
