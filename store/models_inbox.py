"""What arrives from the modems: stored incoming messages, the drafts ingest records, and SIM
balance readings (`store.inbox`, `store.balances`).

A leaf split from `store.models` (which still offers every model).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

__all__ = [
    "Balance",
    "Incoming",
    "IncomingDraft",
    "IncomingState",
]

IncomingState = Literal["new", "partial", "routed", "malformed", "ignored"]


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
class Balance:
    """A SIM balance read by USSD: the network's text, the amount found in it, or an error."""

    id: int
    modem: str
    at: datetime
    text: str | None
    amount: Decimal | None
    currency: str | None
    error: str | None
