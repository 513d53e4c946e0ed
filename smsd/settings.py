"""Value types the configuration hands to the daemon's parts: a leaf module.

`smsd.config` builds these from TOML and the environment; the router reads `Rules`, the sender
`RetryPolicy`, the modem workers `WorkerTimers`. Standard library only, so loading the
configuration never loads the parts that use it (the modem's own `ModemSettings` lives, for the
same reason, in `modem.settings`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

__all__ = ["RetryPolicy", "Rules", "WorkerTimers"]


@dataclass(frozen=True)
class Rules:
    """Settings from the configuration; texts may use {gateway} and {contact}."""

    gateway_name: str = "smsactive"
    contact: str = ""
    help_text: str = (
        "{gateway}: text a business's code to get its reply. Help: {contact}. "
        "Msg & data rates may apply. Text STOP to stop all messages, STOP <CODE> for one."
    )
    user_code_text: str = (
        "{gateway}: welcome! Your personal code is {user_code}. "
        "Businesses see this code, never your number."
    )
    unknown_text: str = "{gateway}: we don't know that code. Text HELP for help."
    stop_all_text: str = (
        "{gateway}: you will get no more messages. Text START to opt back in. Help: {contact}"
    )
    stop_one_text: str = "{gateway}: no more messages from {business}. Text {code} to opt back in."
    start_text: str = "{gateway}: you are opted back in. Text STOP to opt out."
    own_number: str | None = None
    replies_per_hour: int = 10
    short_code_max_len: int = 6
    loop_threshold: int = 3
    loop_window: timedelta = timedelta(minutes=10)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard we try before giving up on an outgoing message."""

    max_attempts: int = 8
    backoff_base_s: float = 5.0
    backoff_max_s: float = 900.0
    validity: timedelta = timedelta(hours=24)
    status_reports: bool = True

    def delay(self, attempts: int) -> float:
        """Exponential back-off with full jitter in [0.5, 1.0] of the step."""
        step = min(self.backoff_base_s * 2.0 ** max(attempts - 1, 0), self.backoff_max_s)
        return step * random.uniform(0.5, 1.0)


@dataclass(frozen=True)
class WorkerTimers:
    """How often the worker does its slow chores (seconds)."""

    sweep_interval: float = 600.0
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
