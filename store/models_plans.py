"""What routing writes and what it leaves behind: the router's write plan (`Plan` and its
drafts) and the history rows read back (`store.routing`, `store.business_view`).

A leaf split from `store.models` (which still offers every model).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from store.models_outbox import OutgoingKind

__all__ = [
    "ALL_BUSINESSES",
    "HistoryRow",
    "OptinDraft",
    "PersonEvent",
    "Plan",
    "ReplyDraft",
    "RequestDraft",
]

#: `OptinDraft.business_id` value meaning "every business this person is currently in/out of".
ALL_BUSINESSES = None


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
