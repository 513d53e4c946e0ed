"""People, businesses and codes as the store returns them (`store.directory`).

A leaf of frozen dataclasses, split from `store.models` (which still offers every model) so a
part imports only the types it builds: `smsd send` builds a few, not two dozen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = [
    "RESERVED_KEYWORDS",
    "USER_CODE_ALPHABET",
    "USER_CODE_LENGTH",
    "Business",
    "Code",
    "Person",
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
