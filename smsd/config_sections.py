"""The sections every command may read: [database], [gateway] and [outgoing].

A leaf of value types, one frozen dataclass per TOML table with its documented defaults
(`tests/test_config_example.py` checks the example config against them). The sections only
the services read ([[modems]], [modem], [limits], [log], [web], ...) are in
`smsd.config_services`, so a one-shot command such as `smsd send`, which reads where the
database is, the default region and the part cap, builds these three and nothing else
(`smsd.config_source`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["DatabaseConfig", "GatewayConfig", "OutgoingConfig"]


@dataclass(frozen=True)
class DatabaseConfig:
    """[database]"""

    path: Path = Path("/var/lib/smsd/smsd.db")
    busy_timeout_ms: int = 5000
    #: A ``postgresql://`` URL: PostgreSQL (several hosts, one store) instead of the file.
    url: str | None = None

    @property
    def target(self) -> str:
        """What `Store.open` takes: `url` when set, else the path."""
        return self.url or str(self.path)


@dataclass(frozen=True)
class GatewayConfig:
    """[gateway]: who we are, for help texts and for never answering ourselves."""

    name: str = "smsactive"
    contact: str = ""
    help_text: str | None = None
    own_number: str | None = None
    default_region: str = "GB"
    short_code_max_len: int = 6
    frequency: str = "Msg frequency varies"  # stated in opt-in and HELP texts (CTIA)
    time_zone: str | None = None  # IANA zone for quiet hours of numbers with no clear zone
    #: This gateway host's name in a shared store (default: the machine's host name).
    host: str | None = None


@dataclass(frozen=True)
class OutgoingConfig:
    """[outgoing]: retries and delivery reports."""

    max_attempts: int = 5
    backoff_base_s: float = 30.0
    backoff_max_s: float = 3600.0
    validity_hours: int = 24
    status_reports: bool = True
    max_parts: int = 10  # longer texts are refused by send and broadcast
    #: A 'sending' claim older than this is a dead host's: the row is queued again.
    claim_timeout_s: float = 600.0
