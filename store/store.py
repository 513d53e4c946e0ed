"""`Store`: the only object in smsactive that speaks SQL.

Open it with `Store.open(path)`. The `Store` owns the connection, its lock and transactions
(`store.base.StoreBase`); what it holds is reached through its parts, each a small class with
a reference to the core (as sqlite-utils' `Database` hands out `Table`s), made once, on first
use:

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
    store.rollups     roll-ups for gateway-wide stats    (store/rollups.py)
    store.balances    SIM balances, refresh requests     (store/balances.py)
    store.tokens      API tokens, idempotency keys       (store/tokens.py)
    store.webhooks    webhooks and their secrets         (store/webhooks.py)
    store.events      webhook events' delivery queue     (store/events.py)
    store.consent     consent policy, double opt-in, the consent record (store/consent.py)
    store.optouts     gateway-wide STOP/START, may this number be texted (store/optouts.py)
    store.polls       polls answered by keyword           (store/polls.py)
    store.schedules   scheduled and recurring broadcasts  (store/schedules.py)
    store.code_admin  updating and retiring codes         (store/code_admin.py)
    store.sessions    web sessions, sign-in throttling, texted codes (store/web_sessions.py)
    store.web         web sign-up and approval, own-code edits, web opt-in/out
                                                         (store/web_accounts.py)

A part that needs another is handed it here (composition): `routing` writes people through
`directory` and replies through `outbox`. Business-facing reads go through
`BusinessView(store.directory, business)`.
"""

from __future__ import annotations

import sqlite3
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from store.base import StoreBase

if TYPE_CHECKING:  # start-up cost: each part's module is imported when the part is first used
    from store.accounts import Accounts
    from store.audit import Audit
    from store.balances import Balances
    from store.broadcast import Broadcasts
    from store.code_admin import CodeAdmin
    from store.consent import Consent
    from store.directory import Directory
    from store.events import Events
    from store.inbox import Inbox
    from store.invoices import Invoices
    from store.modems import Modems
    from store.optouts import OptOuts
    from store.outbox import Outbox
    from store.polls import Polls
    from store.postgres import PgDatabase
    from store.rollups import Rollups
    from store.routing import Routing
    from store.schedules import Schedules
    from store.stats import Stats
    from store.tokens import Tokens
    from store.web_accounts import WebAccounts
    from store.web_sessions import WebSessions
    from store.webhooks import Webhooks

__all__ = ["Store"]


class Store(StoreBase):
    """A migrated SQLite database, safe to share between the daemon's threads.

    Every part's method holds the store's lock and runs in one transaction (joining the
    caller's `transaction()` when there is one); sqlite3 errors leave as `StoreError`s.
    """

    # Each part is made, and its module imported, on first use: a start-up optimisation, so
    # `smsd send` loads neither argon2 nor phonenumbers (accounts) nor the daemon's parts, and
    # the daemon never loads accounts, stats, invoices or broadcasts. Not a circle dodge: no
    # part module imports this one. Parts hold no state but their collaborators, so two
    # threads racing to the first use (cached_property has no lock from 3.12) are harmless.

    def __init__(
        self, conn: sqlite3.Connection | PgDatabase, path: Path | str, *, host: str | None = None
    ) -> None:
        super().__init__(conn, path, host=host)

    @cached_property
    def directory(self) -> Directory:
        """Businesses, codes and people."""
        from store.directory import Directory

        return Directory(self)

    @cached_property
    def inbox(self) -> Inbox:
        """Incoming messages, dedupe and multipart parts."""
        from store.inbox import Inbox

        return Inbox(self)

    @cached_property
    def outbox(self) -> Outbox:
        """The outgoing queue and its states."""
        from store.outbox import Outbox

        return Outbox(self)

    @cached_property
    def audit(self) -> Audit:
        """The audit trail."""
        from store.audit import Audit

        return Audit(self)

    @cached_property
    def routing(self) -> Routing:
        """Applying a routing plan, opt-in state and request history."""
        from store.routing import Routing

        return Routing(self, self.directory, self.inbox, self.outbox)

    @cached_property
    def rollups(self) -> Rollups:
        """Roll-ups for gateway-wide statistics."""
        from store.rollups import Rollups

        return Rollups(self)

    @cached_property
    def accounts(self) -> Accounts:
        """Profiles, passwords and erasure."""
        from store.accounts import Accounts

        return Accounts(self, self.directory, self.audit, self.rollups)

    @cached_property
    def broadcasts(self) -> Broadcasts:
        """Broadcasts, manual sends and retries."""
        from store.broadcast import Broadcasts

        return Broadcasts(self, self.directory, self.outbox)

    @cached_property
    def invoices(self) -> Invoices:
        """Monthly invoices."""
        from store.invoices import Invoices

        return Invoices(self, self.directory)

    @cached_property
    def stats(self) -> Stats:
        """Suppressed breakdowns and dossiers."""
        from store.stats import Stats

        return Stats(self, self.directory, self.accounts, self.routing, self.audit, self.rollups)

    @cached_property
    def modems(self) -> Modems:
        """Modem reports and preferences."""
        from store.modems import Modems

        return Modems(self, self.directory)

    @cached_property
    def consent(self) -> Consent:
        """Consent policy, double opt-in and the consent record."""
        from store.consent import Consent

        return Consent(self, self.optouts)

    @cached_property
    def optouts(self) -> OptOuts:
        """Gateway-wide STOP/START and whether a number opted out (what `smsd send` asks)."""
        from store.optouts import OptOuts

        return OptOuts(self)

    @cached_property
    def polls(self) -> Polls:
        """Polls answered by keyword."""
        from store.polls import Polls

        return Polls(self)

    @cached_property
    def schedules(self) -> Schedules:
        """Scheduled and recurring broadcasts."""
        from store.schedules import Schedules

        return Schedules(self)

    @cached_property
    def code_admin(self) -> CodeAdmin:
        """Updating and retiring codes."""
        from store.code_admin import CodeAdmin

        return CodeAdmin(self)

    @cached_property
    def balances(self) -> Balances:
        """SIM balances per modem and refresh requests."""
        from store.balances import Balances

        return Balances(self)

    @cached_property
    def sessions(self) -> WebSessions:
        """Web sessions, sign-in throttling and texted one-time codes (`smsd web`)."""
        from store.web_sessions import WebSessions

        return WebSessions(self)

    @cached_property
    def web(self) -> WebAccounts:
        """Web sign-up and approval, a business's own codes, web opt-in/out (`smsd web`)."""
        from store.web_accounts import WebAccounts

        return WebAccounts(self)

    @cached_property
    def tokens(self) -> Tokens:
        """API tokens and idempotency keys."""
        from store.tokens import Tokens

        return Tokens(self, self.directory)

    @cached_property
    def webhooks(self) -> Webhooks:
        """Webhooks and their secrets."""
        from store.webhooks import Webhooks

        return Webhooks(self, self.directory)

    @cached_property
    def events(self) -> Events:
        """The webhook events' delivery queue."""
        from store.events import Events

        return Events(self)
