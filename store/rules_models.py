"""Value types of the messaging-rules parts: consent, business policy, polls, schedules.

A leaf module (frozen dataclasses only), imported by the store parts that return these and
by `smsd` (router state, daemon scheduler, CLI) that reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

__all__ = [
    "BusinessPolicy",
    "ConsentChannel",
    "ConsentRecord",
    "Poll",
    "PollResult",
    "Recurrence",
    "ScheduledBroadcast",
]

ConsentChannel = Literal["sms", "web", "api", "operator"]
Recurrence = Literal["daily", "weekly"]


@dataclass(frozen=True)
class BusinessPolicy:
    """How a business takes consent: double opt-in, and the message frequency it states."""

    business_id: int
    double_opt_in: bool = False
    frequency: str | None = None  # e.g. "Up to 4 msgs/month"; None: the gateway's default


@dataclass(frozen=True)
class Poll:
    """A poll answered by texting its code and an option (``VOTE B``)."""

    id: int
    code_id: int
    business_id: int
    keyword: str
    options: tuple[str, ...]  # folded upper case, in the order given
    created_at: datetime
    closes_at: datetime | None = None
    closed_at: datetime | None = None

    def is_open(self, now: datetime) -> bool:
        """True until it is closed or its closing time has passed."""
        if self.closed_at is not None and self.closed_at <= now:
            return False
        return self.closes_at is None or now < self.closes_at


@dataclass(frozen=True)
class PollResult:
    """Votes per option; an option chosen by fewer than `k` people shows None (suppressed)."""

    poll: Poll
    counts: tuple[tuple[str, int | None], ...]
    voters: int | None  # None when fewer than k people voted at all
    k: int


@dataclass(frozen=True)
class ConsentRecord:
    """One opt-in, opt-out or pending (double opt-in) event, as a regulator would ask for it.

    `business` None: a gateway-wide event (STOP or START with no code). Never a phone number.
    """

    at: datetime
    user_code: str | None
    business: str | None
    kind: Literal["in", "out", "pending"]
    channel: ConsentChannel
    keyword: str | None  # the keyword as the router read it (STOP PIZZA)
    received: str | None  # the text exactly as it came from the handset
    confirmation: str | None  # the confirmation text queued in answer
    confirmation_state: str | None  # its delivery state (queued, sent, delivered, failed)


@dataclass(frozen=True)
class ScheduledBroadcast:
    """A broadcast due at `next_at`, once or every day/week; kept after it ran or was cancelled."""

    id: int
    business_id: int
    business: str
    text: str
    next_at: datetime | None  # None once a one-off ran or the schedule was cancelled
    every: Recurrence | None
    created_at: datetime
    runs: int = 0
    last_run_at: datetime | None = None
    cancelled_at: datetime | None = None
