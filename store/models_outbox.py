"""Outgoing messages as the transactional outbox holds them (`store.outbox`).

A leaf split from `store.models` (which still offers every model); the outbox imports it when
it first reads a row, so `smsd send`, which queues one and reads none, never builds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

__all__ = [
    "Outgoing",
    "OutgoingKind",
    "OutgoingState",
]

OutgoingState = Literal["queued", "sending", "sent", "delivered", "failed"]
OutgoingKind = Literal["user_code", "reply", "help", "confirm", "broadcast", "manual"]


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
