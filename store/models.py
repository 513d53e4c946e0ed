"""Frozen dataclasses returned by the store, and the write plans it accepts.

Rows come back as these types, never as dicts or tuples, so callers above the store do not
depend on column names. Business-facing types (`HistoryRow`) carry no phone number at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

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

#: No 0/O and no 1/I/L, so a code read aloud or copied by hand cannot be mistyped.
USER_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
USER_CODE_LENGTH = 6

#: Words the router answers itself; a business code may never take one of them.
RESERVED_KEYWORDS = frozenset(
    {
        "STOP",
        "STOPALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "OPTOUT",
        "REVOKE",
        "START",
        "YES",
        "UNSTOP",
        "HELP",
        "INFO",
        # Opt-out words of AWS's list and other languages (smsd.keywords.DEFAULT_STOP_WORDS).
        "ARRET",
        "REMOVE",
        "TD",
        "BAJA",
        "PARAR",
        "STOPP",
        "HALT",
        "ABMELDEN",
        "AFMELDEN",
        "ANNULLA",
        "SAIR",
    }
)

#: `OptinDraft.business_id` value meaning "every business this person is currently in/out of".
ALL_BUSINESSES = None

IncomingState = Literal["new", "partial", "routed", "malformed", "ignored"]
OutgoingState = Literal["queued", "sending", "sent", "delivered", "failed"]
OutgoingKind = Literal["user_code", "reply", "help", "confirm", "broadcast", "manual"]


@dataclass(frozen=True)
class Person:
    """Someone who texted the gateway; `phone` is None once erased (the row and code stay)."""

    id: int
    phone: str | None
    user_code: str
    created_at: datetime
    erased_at: datetime | None = None


@dataclass(frozen=True)
class Business:
    """A business that owns codes."""

    id: int
    name: str
    daily_cap: int | None
    created_at: datetime


@dataclass(frozen=True)
class Code:
    """A keyword a person can text; `aliases` are further keywords for the same code."""

    id: int
    business_id: int
    business_name: str
    keyword: str
    reply: str
    description: str | None
    paused: bool
    starts_at: datetime | None
    ends_at: datetime | None
    created_at: datetime
    aliases: tuple[str, ...] = ()

    def is_active(self, now: datetime) -> bool:
        """True when the code is not paused and `now` is within its start/end dates."""
        if self.paused:
            return False
        if self.starts_at is not None and now < self.starts_at:
            return False
        return self.ends_at is None or now < self.ends_at


@dataclass(frozen=True)
class Incoming:
    """One stored incoming message (or one part of a multipart message)."""

    id: int
    modem: str | None
    sender: str
    sender_type: str
    scts: datetime | None
    received_at: datetime
    text: str | None
    encoding: str | None
    concat_ref: int | None
    concat_total: int | None
    concat_seq: int | None
    state: IncomingState
    error: str | None
    raw_pdu: str | None = None
    storage: str | None = None
    storage_index: int | None = None


@dataclass(frozen=True)
class IncomingDraft:
    """A received message or part to record (`store.inbox.record_incoming_many`).

    `concat` is (reference, total, sequence); `storage_index` None means a direct delivery.
    """

    sender: str
    sender_type: str
    text: str | None
    received_at: datetime
    scts: datetime | None = None
    raw_pdu: str | None = None
    encoding: str | None = None
    concat: tuple[int, int, int] | None = None
    modem: str | None = None
    storage: str | None = None
    storage_index: int | None = None


@dataclass(frozen=True)
class Outgoing:
    """One outgoing message in the transactional outbox."""

    id: int
    recipient: str
    text: str
    kind: OutgoingKind
    business_id: int | None
    incoming_id: int | None
    person_id: int | None
    state: OutgoingState
    created_at: datetime
    attempts: int
    next_attempt_at: datetime | None
    claimed_at: datetime | None
    modem: str | None
    mr: int | None
    sent_at: datetime | None
    delivered_at: datetime | None
    error: str | None
    parts: int | None
    #: The gateway host that claimed the row last (see `Outbox.reclaim_expired`).
    claimed_by: str | None = None


@dataclass(frozen=True)
class HistoryRow:
    """A business-facing request record: who (by user code), which keyword, when. Never a phone."""

    user_code: str
    keyword: str
    at: datetime


@dataclass(frozen=True)
class PersonEvent:
    """One line of a person's history: a request or an opt-in/opt-out."""

    at: datetime
    kind: Literal["request", "in", "out"]
    business: str
    keyword: str | None


@dataclass(frozen=True)
class RequestDraft:
    """A request to record: the person texted `code_id` of `business_id`."""

    code_id: int
    business_id: int


@dataclass(frozen=True)
class OptinDraft:
    """An opt-in ('in') or opt-out ('out') event; business_id None means every relevant business.

    For 'out' with None: every business the person is currently opted in to.
    For 'in' with None: every business the person had opted out of.
    """

    kind: Literal["in", "out"]
    business_id: int | None
    keyword: str


@dataclass(frozen=True)
class ReplyDraft:
    """An outgoing message to queue; `{user_code}` in `text` is filled in by the store."""

    text: str
    kind: OutgoingKind
    business_id: int | None = None


@dataclass(frozen=True)
class Plan:
    """Everything the router decided for one incoming message, written in one transaction."""

    create_person: bool = False
    requests: tuple[RequestDraft, ...] = ()
    optins: tuple[OptinDraft, ...] = ()
    replies: tuple[ReplyDraft, ...] = ()
    state: Literal["routed", "ignored"] = "routed"
    reason: str | None = None


@dataclass(frozen=True)
class Balance:
    """A SIM balance read by USSD: the network's text, the amount found in it, or an error."""

    id: int
    modem: str
    at: datetime
    text: str | None
    amount: Decimal | None
    currency: str | None
    error: str | None
