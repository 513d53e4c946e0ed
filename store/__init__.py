"""smsactive: the `store` layer (see docs/ARCHITECTURE.md).

The only package that speaks SQL. `Store.open(path)` returns a migrated database; rows come
back as the frozen dataclasses of `store.models`; errors are the tree in `store.errors`.
"""

from store.errors import Conflict, InvalidInput, NotFound, StoreError, StoreUnavailable
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
from store.routing import Applied
from store.store import Store

__all__ = [
    "ALL_BUSINESSES",
    "RESERVED_KEYWORDS",
    "USER_CODE_ALPHABET",
    "USER_CODE_LENGTH",
    "Applied",
    "Business",
    "Code",
    "Conflict",
    "HistoryRow",
    "Incoming",
    "IncomingDraft",
    "InvalidInput",
    "NotFound",
    "OptinDraft",
    "Outgoing",
    "Person",
    "PersonEvent",
    "Plan",
    "ReplyDraft",
    "RequestDraft",
    "Store",
    "StoreError",
    "StoreUnavailable",
]
