"""`Store`: the only object in smsactive that speaks SQL.

Open it with `Store.open(path)`. Its methods are named by intent and grouped by topic in
sibling modules (directory, inbox, outbox, routing); this class only puts them together.
Other modules (e.g. `store/accounts.py`) may build on `Store.db` inside `Store.transaction()`.
"""

from __future__ import annotations

from store.accounts import AccountsMixin
from store.audit import AuditMixin
from store.broadcast import BroadcastMixin
from store.invoices import InvoicesMixin
from store.modems import ModemsMixin
from store.routing import RoutingMixin
from store.stats import PersonStatsMixin, StatsMixin

__all__ = ["Store"]


class Store(
    ModemsMixin,
    PersonStatsMixin,
    StatsMixin,
    InvoicesMixin,
    BroadcastMixin,
    AccountsMixin,
    RoutingMixin,
    AuditMixin,
):
    """A migrated SQLite database, safe to share between the daemon's threads.

    Every method holds the store's lock and runs in one transaction (joining the caller's
    `transaction()` when there is one); sqlite3 errors leave as `StoreError` subclasses.
    """
