"""`Store`: the only object in smsactive that speaks SQL.

Open it with `Store.open(path)`. Its methods are named by intent and grouped by topic in
sibling modules (directory, inbox, outbox, routing); this class only puts them together.
Other modules (e.g. `store/accounts.py`) may build on `Store.db` inside `Store.transaction()`.
"""

from __future__ import annotations

from functools import cached_property

from store.accounts import AccountsMixin
from store.audit import AuditMixin
from store.broadcast import BroadcastMixin
from store.code_admin import CodeAdminPart
from store.consent import ConsentPart
from store.invoices import InvoicesMixin
from store.modems import ModemsMixin
from store.polls import PollsPart
from store.routing import RoutingMixin
from store.schedules import SchedulesPart
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

    @cached_property
    def consent(self) -> ConsentPart:
        """Consent policy, double opt-in, gateway-wide opt-outs and the consent record."""
        return ConsentPart(self)

    @cached_property
    def polls(self) -> PollsPart:
        """Polls answered by keyword."""
        return PollsPart(self)

    @cached_property
    def schedules(self) -> SchedulesPart:
        """Scheduled and recurring broadcasts."""
        return SchedulesPart(self)

    @cached_property
    def code_admin(self) -> CodeAdminPart:
        """Updating and retiring codes."""
        return CodeAdminPart(self)
