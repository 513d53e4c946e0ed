"""Value types the configuration hands to the daemon's parts: a leaf module.

`smsd.config` builds these from TOML and the environment; the router reads `Rules` (with its
`Vocabulary`), the sender `RetryPolicy`, the modem workers `WorkerTimers`, `smsd broadcast`
and the daemon's scheduler `BroadcastPolicy`. The default texts and words follow the CTIA
Messaging Principles and the FCC opt-out rule (docs/RULES.md). Standard library only (and the
leaf `smsd.templates`, where `TEXT_FIELDS` lives), so loading the configuration never loads the
parts that use it (the modem's own `ModemSettings` lives, for the
same reason, in `modem.settings`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import time, timedelta
from decimal import Decimal

from smsd.templates import TEXT_FIELDS  # re-exported: the texts' placeholders live with them

__all__ = [
    "DEFAULT_HELP_WORDS",
    "DEFAULT_OPTOUT_PHRASES",
    "DEFAULT_START_WORDS",
    "DEFAULT_STOP_WORDS",
    "TEXT_FIELDS",
    "BalanceSettings",
    "BroadcastPolicy",
    "RetryPolicy",
    "Rules",
    "Vocabulary",
    "WorkerTimers",
]


@dataclass(frozen=True)
class RetryPolicy:
    """How hard we try before giving up on an outgoing message."""

    max_attempts: int = 8
    backoff_base_s: float = 5.0
    backoff_max_s: float = 900.0
    validity: timedelta = timedelta(hours=24)
    status_reports: bool = True
    first_retry_s: float = 2.0

    def delay(self, attempts: int) -> float:
        """Seconds before retry number ``attempts``: ``first_retry_s`` (+-25 %), then twice
        that, then exponential from ``backoff_base_s``; jitter in [0.5, 1.0] of the step after
        the first, everything capped at ``backoff_max_s``. A passing blip (two +CMS 500) costs
        seconds; a lasting fault backs off to the ceiling."""
        if attempts <= 1:
            return min(self.first_retry_s * random.uniform(0.75, 1.25), self.backoff_max_s)
        if attempts == 2:
            step = 2 * self.first_retry_s
        else:
            step = self.backoff_base_s * 2.0 ** (attempts - 3)
        return min(step, self.backoff_max_s) * random.uniform(0.5, 1.0)


@dataclass(frozen=True)
class BalanceSettings:
    """[modem] balance_*: read the SIM's balance by USSD every ``interval_hours``; warn
    below ``low``. No ``ussd`` code: never asked (``smsd modem balance --device`` still can)."""

    ussd: str | None = None
    interval_hours: float = 24.0
    low: Decimal | None = None


@dataclass(frozen=True)
class WorkerTimers:
    """How often the worker does its slow chores (seconds)."""

    sweep_interval: float = 600.0
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    liveness_interval: float = 60.0  # one AT+CNMI? per idle interval, never more
    release_delay: float = 1.0  # deleted copies' keys wait this long for the next burst
    balance: BalanceSettings = field(default_factory=BalanceSettings)


#: English (CTIA, FCC 47 CFR 64.1200(a)(10), carriers), AWS's list and other languages.
DEFAULT_STOP_WORDS = frozenset(
    {
        # English: carriers, CTIA and the FCC's "reasonable means per se" words.
        "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE",
        # AWS End User Messaging's required list adds these.
        "ARRET", "REMOVE", "TD",
        # Spanish, German, Dutch, Italian, Portuguese.
        "BAJA", "PARAR", "STOPP", "HALT", "ABMELDEN", "AFMELDEN", "ANNULLA", "SAIR",
    }
)  # fmt: skip
DEFAULT_START_WORDS = frozenset({"START", "YES", "UNSTOP"})
DEFAULT_HELP_WORDS = frozenset({"HELP", "INFO"})

#: Matched as consecutive folded words in a short message (`phrase_max_words`).
DEFAULT_OPTOUT_PHRASES = (
    "stop",
    "revoke",
    "optout",
    "stop texting",
    "stop messaging",
    "stop sending",
    "stop it",
    "opt out",
    "opt me out",
    "unsubscribe",
    "remove me",
    "take me off",
    "no more",
    "dont text",
    "do not text",
    "dont message",
    "do not message",
    "dont contact",
    "do not contact",
    "leave me alone",
    "no mas",
    "desabonner",
    "desinscribir",
)


@dataclass(frozen=True)
class Vocabulary:
    """The words the gateway answers itself, and the opt-out phrases; all folded upper case."""

    stop_words: frozenset[str] = DEFAULT_STOP_WORDS
    start_words: frozenset[str] = DEFAULT_START_WORDS
    help_words: frozenset[str] = DEFAULT_HELP_WORDS
    optout_phrases: tuple[str, ...] = DEFAULT_OPTOUT_PHRASES
    phrase_max_words: int = 8


@dataclass(frozen=True)
class Rules:
    """Settings from the configuration. Texts are checked by `smsd.templates.check_gateway`.

    Gateway texts may use {gateway}, {contact}, {frequency}; [optional] parts vanish when a
    placeholder in them is empty. Opt-in texts add {business} and {code}; {user_code} is
    filled by the store.
    """

    gateway_name: str = "smsactive"
    contact: str = ""
    frequency: str = "Msg frequency varies"
    help_text: str = (
        "{gateway}: text a business's code to get its reply.[ Help: {contact}.] {frequency}."
        " Msg & data rates may apply. Text STOP to stop all messages, STOP <CODE> for one."
    )
    user_code_text: str = (
        "{gateway}: your personal code is {user_code}; businesses see it, never your number."
        " {frequency}. Msg & data rates may apply. Reply HELP for help, STOP to stop."
    )
    optin_text: str = (
        "{business} via {gateway}: you're subscribed. {frequency}. Msg & data rates may apply."
        " Reply HELP for help, STOP {code} to stop."
    )
    first_optin_text: str = (
        "{business} via {gateway}: you're subscribed. Your personal code is {user_code};"
        " businesses never see your number. {frequency}. Msg & data rates may apply."
        " Reply STOP to stop."
    )
    confirm_request_text: str = (
        "{business} via {gateway}: reply YES to get texts from {business}. {frequency}."
        " Msg & data rates may apply. Reply HELP for help."
    )
    unknown_text: str = "{gateway}: we don't know that code. Text HELP for help."
    stop_all_text: str = (
        "{gateway}: you will get no more messages. Text START to opt back in.[ Help: {contact}]"
    )
    stop_one_text: str = "{gateway}: no more messages from {business}. Text {code} to opt back in."
    start_text: str = "{gateway}: you are opted back in. Text STOP to opt out."
    vote_text: str = (
        "{business}: your vote for {option} is counted. Text {code} <option> to change it."
    )
    vote_invalid_text: str = "{business}: to vote, text {code} and one of: {options}."
    poll_closed_text: str = "{business}: the {code} poll is closed. Thanks for taking part."
    vocabulary: Vocabulary = field(default_factory=Vocabulary)
    own_number: str | None = None
    replies_per_hour: int = 10
    short_code_max_len: int = 6
    loop_threshold: int = 3
    loop_window: timedelta = timedelta(minutes=10)


@dataclass(frozen=True)
class BroadcastPolicy:
    """How broadcasts are queued: quiet hours (recipient's local time), caps, repeat window.

    `time_zone` is the gateway's IANA zone, used for numbers whose zone is unclear; None
    means the machine's local zone.
    """

    quiet_hours: tuple[time, time] | None = None
    time_zone: str | None = None
    default_cap: int = 1000
    repeat_window: timedelta = timedelta(hours=24)
    max_parts: int = 10
