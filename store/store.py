"""`Store`: the only object in smsactive that speaks SQL.

Open it with `Store.open(path)`. The `Store` owns the connection, its lock and transactions
(`store.base.StoreBase`); what it holds is reached through its parts, made once here, each a
small class with a reference to the core (as sqlite-utils' `Database` hands out `Table`s):

    store.directory   businesses, codes, people          (store/directory.py)
    store.inbox       incoming messages, dedupe, parts   (store/inbox.py)
    store.outbox      the outgoing queue and its states  (store/outbox.py)
    store.routing     apply a routing plan, opt-in state (store/routing.py)
    store.accounts    profiles, passwords, erasure       (store/accounts.py)
    store.audit       the audit trail                    (store/audit.py)
    store.broadcasts  broadcasts, manual sends, retries  (store/broadcast.py)
    store.invoices    monthly invoices                   (store/invoices.py)
    store.stats       suppressed breakdowns, dossiers    (store/stats.py)
    store.modems      modem reports and preferences      (store/modems.py)
    store.consent     consent policy, double opt-in, the consent record (store/consent.py)
    store.polls       polls answered by keyword           (store/polls.py)
    store.schedules   scheduled and recurring broadcasts  (store/schedules.py)
    store.code_admin  updating and retiring codes         (store/code_admin.py)
    store.tokens      API tokens, idempotency keys       (store/tokens.py)
    store.webhooks    webhooks and their secrets         (store/webhooks.py)
    store.events      webhook events' delivery queue     (store/events.py)

A part that needs another is handed it here (composition): `routing` writes people through
`directory` and replies through `outbox`. Business-facing reads go through
`BusinessView(store.directory, business)`.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from store.accounts import Accounts
from store.audit import Audit
from store.base import StoreBase
from store.broadcast import Broadcasts
from store.code_admin import CodeAdmin
from store.consent import Consent
from store.directory import Directory
from store.events import Events
from store.inbox import Inbox
from store.invoices import Invoices
from store.modems import Modems
from store.outbox import Outbox
from store.polls import Polls
from store.routing import Routing
from store.schedules import Schedules
from store.stats import Stats
from store.tokens import Tokens
from store.webhooks import Webhooks

__all__ = ["Store"]


class Store(StoreBase):
    """A migrated SQLite database, safe to share between the daemon's threads.

    Every part's method holds the store's lock and runs in one transaction (joining the
    caller's `transaction()` when there is one); sqlite3 errors leave as `StoreError`s.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        super().__init__(conn, path)
        self.directory = Directory(self)
        self.inbox = Inbox(self)
        self.outbox = Outbox(self)
        self.audit = Audit(self)
        self.routing = Routing(self, self.directory, self.inbox, self.outbox)
        self.accounts = Accounts(self, self.directory, self.audit)
        self.broadcasts = Broadcasts(self, self.directory, self.outbox)
        self.invoices = Invoices(self, self.directory)
        self.stats = Stats(self, self.directory, self.accounts, self.routing, self.audit)
        self.modems = Modems(self, self.directory)
        self.consent = Consent(self)
        self.polls = Polls(self)
        self.schedules = Schedules(self)
        self.code_admin = CodeAdmin(self)
        self.tokens = Tokens(self, self.directory)
        self.webhooks = Webhooks(self, self.directory)
        self.events = Events(self)
