"""`Store`: the only object in smsactive that speaks SQL.

Open it with `Store.open(path)`. Its methods are named by intent and grouped by topic in
sibling modules (directory, inbox, outbox, routing); this class only puts them together.
Other modules (e.g. `store/accounts.py`) may build on `Store.db` inside `Store.transaction()`.
"""

from __future__ import annotations

from store.routing import RoutingMixin

__all__ = ["Store"]


class Store(RoutingMixin):
    """A migrated SQLite database, safe to share between the daemon's threads.

    Every method holds the store's lock and runs in one transaction (joining the caller's
    `transaction()` when there is one); sqlite3 errors leave as `StoreError` subclasses.
    """
