"""smsactive: the `store` layer (see docs/ARCHITECTURE.md).

The only package that speaks SQL. `Store.open(path)` returns a migrated database whose parts
(`store.directory`, `store.inbox`, `store.outbox`, `store.routing`, `store.accounts`,
`store.audit`, `store.broadcasts`, `store.invoices`, `store.stats`, `store.modems`,
`store.tokens`, `store.webhooks`, `store.events`) hold the methods; rows come back as the
frozen dataclasses of `store.models`; errors are the tree in `store.errors`.
"""

from store.accounts import Accounts
from store.audit import Audit
from store.broadcast import Broadcasts
from store.directory import Directory
from store.errors import Conflict, InvalidInput, NotFound, StoreError, StoreUnavailable
from store.events import Events
from store.inbox import Inbox
from store.invoices import Invoices
from store.models import (
    ALL_BUSINESSES,
    RESERVED_KEYWORDS,
    USER_CODE_ALPHABET,
    USER_CODE_LENGTH,
    Business,
    Code,
    HistoryRow,
    Incoming,
    IncomingDraft,
    OptinDraft,
    Outgoing,
    Person,
    PersonEvent,
    Plan,
    ReplyDraft,
    RequestDraft,
)
from store.modems import Modems
from store.outbox import Outbox
from store.routing import Applied, Routing
from store.stats import Stats
from store.store import Store
from store.tokens import Tokens
from store.webhooks import Webhooks

__all__ = [
    "ALL_BUSINESSES",
    "RESERVED_KEYWORDS",
    "USER_CODE_ALPHABET",
    "USER_CODE_LENGTH",
    "Accounts",
    "Applied",
    "Audit",
    "Broadcasts",
    "Business",
    "Code",
    "Conflict",
    "Directory",
    "Events",
    "HistoryRow",
    "Inbox",
    "Incoming",
    "IncomingDraft",
    "InvalidInput",
    "Invoices",
    "Modems",
    "NotFound",
    "OptinDraft",
    "Outbox",
    "Outgoing",
    "Person",
    "PersonEvent",
    "Plan",
    "ReplyDraft",
    "RequestDraft",
    "Routing",
    "Stats",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "Tokens",
    "Webhooks",
]
