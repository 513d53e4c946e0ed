"""The sections the services read: [[modems]], [limits], [modem], [multipart], [billing], [log],
[web] and [webhooks].

A leaf of value types like `smsd.config_sections` (which holds [database], [gateway] and
[outgoing]); `smsd.config` builds them with the others, and
`tests/test_config_example.py` checks the example config against their defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from decimal import Decimal

__all__ = [
    "BillingConfig",
    "LimitsConfig",
    "LogConfig",
    "ModemConfig",
    "ModemDefaultsConfig",
    "MultipartConfig",
    "WebConfig",
    "WebhooksConfig",
]


@dataclass(frozen=True)
class ModemConfig:
    """One [[modems]] entry."""

    url: str
    name: str = "modem0"
    pin: str | None = None
    baudrate: int = 115200
    rtscts: bool = False
    storage: str = "SM"
    cnmi: str = "AT+CNMI=2,1,0,2,0"
    command_timeout: float = 10.0  # seconds for an ordinary AT command; also the hang detector
    send_timeout: float = 90.0  # AT+CMGS can take a minute on a bad network
    prompt_timeout: float = 10.0


@dataclass(frozen=True)
class LimitsConfig:
    """[limits]; `quiet_hours` is (start, end) local times, possibly across midnight."""

    replies_per_hour: int = 10
    loop_threshold: int = 3
    loop_window_minutes: int = 10
    broadcast_daily_cap: int = 1000
    quiet_hours: tuple[time, time] | None = None
    broadcast_repeat_hours: int = 24  # the same broadcast again within this needs --force


@dataclass(frozen=True)
class ModemDefaultsConfig:
    """[modem]: what every modem's worker does besides messages."""

    balance_ussd: str | None = None  # e.g. "*100#"
    balance_interval_hours: float = 24.0
    balance_low: Decimal | None = None
    liveness_interval_s: float = 60.0
    release_delay_s: float = 1.0  # deleted copies' keys wait this long for the next burst


@dataclass(frozen=True)
class MultipartConfig:
    """[multipart]"""

    timeout_minutes: int = 60


@dataclass(frozen=True)
class BillingConfig:
    """[billing]: prices as exact decimals in `currency`."""

    price_per_request: Decimal = Decimal("0")
    price_per_broadcast_part: Decimal = Decimal("0")
    currency: str = "GBP"


@dataclass(frozen=True)
class LogConfig:
    """[log]: level (debug/info/warning/error) and format (json/console; None = by TTY)."""

    level: str = "info"
    format: str | None = None


@dataclass(frozen=True)
class WebConfig:
    """[web]: the portal `smsd web` (see docs/WEB.md)."""

    listen: str = "127.0.0.1:8080"
    approve_businesses: bool = True
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    signin_free_failures: int = 5
    lockout_minutes: int = 1
    lockout_max_minutes: int = 60
    code_minutes: int = 10
    proxy_headers: bool = False
    workers: int = 1


@dataclass(frozen=True)
class WebhooksConfig:
    """[webhooks]: delivery by `smsd web` (docs/API.md); `SMSD_WEBHOOKS_<KEY>` overrides each."""

    retry_base_s: float = 5.0  # first retry after 5-7.5 s (jitter x1-1.5), then doubling
    max_age_h: float = 24.0  # then the delivery is parked as failed (retryable)
    timeout_s: float = 10.0  # per attempt, connect to last byte
    concurrency: int = 64  # attempts in flight at once
    poll_s: float = 0.25  # how often the queue is looked at when idle
    keep_days: float = 7.0  # delivered events older than this are pruned
    lease_s: float = 15.0  # one process delivers; a dead one's turn passes after this
