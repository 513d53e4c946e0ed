"""smsactive: the `store` layer (see docs/ARCHITECTURE.md).

The only package that speaks SQL. `Store.open(path)` returns a migrated database whose parts
(`store.directory`, `store.inbox`, `store.outbox`, `store.routing`, `store.accounts`,
`store.audit`, `store.broadcasts`, `store.invoices`, `store.stats`, `store.modems`,
`store.tokens`, `store.webhooks`, `store.events`, ...) hold the methods; rows come back as
the frozen dataclasses of `store.models`; errors are the tree in `store.errors`.

A face that imports only the error tree (`store.errors`) up front; the models, `Store` and the
part classes are imported when first named (PEP 562 `__getattr__`). A start-up optimisation:
a command that opens the store loads the parts it uses, not all ten, and the model modules
those parts use, not every dataclass (`import store.errors` runs this face first).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from store.errors import Conflict, InvalidInput, NotFound, StoreError, StoreUnavailable

if TYPE_CHECKING:
    from store.accounts import Accounts
    from store.audit import Audit
    from store.broadcast import Broadcasts
    from store.directory import Directory
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

_MODELS = (
    "ALL_BUSINESSES", "RESERVED_KEYWORDS", "USER_CODE_ALPHABET", "USER_CODE_LENGTH", "Business",
    "Code", "HistoryRow", "Incoming", "IncomingDraft", "OptinDraft", "Outgoing", "Person",
    "PersonEvent", "Plan", "ReplyDraft", "RequestDraft",
)  # fmt: skip

#: Names imported on first use, and the module each comes from.
_LAZY = {
    **dict.fromkeys(_MODELS, "store.models"),
    "Accounts": "store.accounts",
    "Applied": "store.routing",
    "Audit": "store.audit",
    "Broadcasts": "store.broadcast",
    "Directory": "store.directory",
    "Events": "store.events",
    "Inbox": "store.inbox",
    "Invoices": "store.invoices",
    "Modems": "store.modems",
    "Outbox": "store.outbox",
    "Routing": "store.routing",
    "Stats": "store.stats",
    "Store": "store.store",
    "Tokens": "store.tokens",
    "Webhooks": "store.webhooks",
}


def __getattr__(name: str) -> object:
    """Import a model, `Store` or a part class when it is first named (see the docstring)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value: object = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
