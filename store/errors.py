"""Errors raised by the store.

::

    StoreError
    ├── NotFound          a named row (business, code, person, message) does not exist
    ├── Conflict          a uniqueness rule was broken (duplicate code, business name)
    ├── InvalidInput      a value failed validation before anything was written
    └── StoreUnavailable  cannot open, locked past the busy timeout, or disk full

``sqlite3`` exceptions are translated into these at the store's edge with ``raise ... from exc``
(`translate`; psycopg's by `store.postgres.translate_pg`).
"""

from __future__ import annotations

import sqlite3

__all__ = ["Conflict", "InvalidInput", "NotFound", "StoreError", "StoreUnavailable", "translate"]

_UNAVAILABLE_MARKERS = (
    "locked",
    "busy",
    "disk is full",
    "database or disk is full",
    "unable to open",
    "readonly",
    "disk i/o error",
    "not a database",
    "malformed",
)


class StoreError(Exception):
    """Root of every error raised by ``store``."""


class NotFound(StoreError):
    """A named row does not exist."""


class Conflict(StoreError):
    """A uniqueness rule was broken."""


class InvalidInput(StoreError):
    """A value failed validation; nothing was written."""


class StoreUnavailable(StoreError):
    """The database cannot be opened or written (locked, disk full, permissions)."""


def translate(exc: sqlite3.Error) -> StoreError:
    """Map a sqlite3 exception to the store's error tree (the caller raises it `from exc`)."""
    text = str(exc)
    lowered = text.lower()
    if isinstance(exc, sqlite3.IntegrityError):
        if "unique" in lowered or "primary key" in lowered:
            return Conflict(text)
        return InvalidInput(text)
    if isinstance(exc, sqlite3.OperationalError | sqlite3.DatabaseError) and any(
        marker in lowered for marker in _UNAVAILABLE_MARKERS
    ):
        return StoreUnavailable(text)
    return StoreError(text)
