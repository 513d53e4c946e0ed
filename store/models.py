"""Frozen dataclasses returned by the store, and the write plans it accepts.

Rows come back as these types, never as dicts or tuples, so callers above the store do not
depend on column names. Business-facing types (`HistoryRow`) carry no phone number at all.

This module offers every model; each lives in a leaf named for what it holds, and a part
imports its own leaf, so a command loads the dataclasses it builds and not the rest (creating
a frozen dataclass costs about a millisecond at import):

    store.models_people   Person, Business, Code; user-code alphabet, reserved keywords
    store.models_inbox    Incoming, IncomingDraft, Balance
    store.models_outbox   Outgoing (and its kinds and states)
    store.models_plans    Plan and its drafts, HistoryRow, PersonEvent
"""

from __future__ import annotations

from store.models_inbox import Balance, Incoming, IncomingDraft, IncomingState
from store.models_outbox import Outgoing, OutgoingKind, OutgoingState
from store.models_people import (
    RESERVED_KEYWORDS,
    USER_CODE_ALPHABET,
    USER_CODE_LENGTH,
    Business,
    Code,
    Person,
)
from store.models_plans import (
    ALL_BUSINESSES,
    HistoryRow,
    OptinDraft,
    PersonEvent,
    Plan,
    ReplyDraft,
    RequestDraft,
)

__all__ = [
    "ALL_BUSINESSES",
    "RESERVED_KEYWORDS",
    "USER_CODE_ALPHABET",
    "USER_CODE_LENGTH",
    "Balance",
    "Business",
    "Code",
    "HistoryRow",
    "Incoming",
    "IncomingDraft",
    "IncomingState",
    "OptinDraft",
    "Outgoing",
    "OutgoingKind",
    "OutgoingState",
    "Person",
    "PersonEvent",
    "Plan",
    "ReplyDraft",
    "RequestDraft",
]
