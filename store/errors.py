"""Errors raised by the store.

::

    StoreError
    ├── NotFound          a named row (business, code, person, message) does not exist
    ├── Conflict          a uniqueness rule was broken (duplicate code, business name)
    ├── InvalidInput      a value failed validation before anything was written
    └── StoreUnavailable  cannot open, locked past the busy timeout, or disk full

``sqlite3`` exceptions are translated into these at the store's edge with ``raise ... from exc``.
"""

from __future__ import annotations

__all__ = ["Conflict", "InvalidInput", "NotFound", "StoreError", "StoreUnavailable"]


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
