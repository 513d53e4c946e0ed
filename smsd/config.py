"""Configuration: a frozen `Config` from TOML plus `SMSD_*` environment overrides.

Lookup: the `path` argument, else `$SMSD_CONFIG`, else `/etc/smsd/smsd.toml` (defaults when
that default file does not exist). Every scalar key can be overridden by
`SMSD_<SECTION>_<KEY>` (e.g. `SMSD_LIMITS_REPLIES_PER_HOUR=5`); short aliases: `SMSD_DB`
(database.path) and `SMSD_DEFAULT_REGION` (gateway.default_region). Invalid values raise
`ConfigError` naming the key, e.g. ``limits.replies_per_hour: expected an integer >= 1``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from modem.settings import ModemSettings
from smsd.config_rules import (
    KEYWORDS_SCHEMA,
    TEXTS_SCHEMA,
    KeywordsConfig,
    TextsConfig,
    gateway_text,
    time_zone,
    vocabulary,
)
from smsd.config_values import (
    Convert,
    boolean,
    choice,
    integer,
    number,
    optional_text,
    path,
    price,
    quiet_hours,
    region,
    text,
    ussd_code,
)
from smsd.config_values import (
    log_format as format_value,
)
from smsd.errors import ConfigError
from smsd.settings import BalanceSettings, BroadcastPolicy, RetryPolicy, Rules, WorkerTimers

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "BillingConfig",
    "Config",
    "DatabaseConfig",
    "GatewayConfig",
    "LimitsConfig",
    "LogConfig",
    "ModemConfig",
    "ModemDefaultsConfig",
    "MultipartConfig",
    "OutgoingConfig",
    "WebConfig",
    "load_config",
    "rules_from",
]

DEFAULT_CONFIG_PATH = Path("/etc/smsd/smsd.toml")
_T = TypeVar("_T")
_ALIASES = {
    "SMSD_DB": ("database", "path"),
    "SMSD_DEFAULT_REGION": ("gateway", "default_region"),
    "SMSD_HOST": ("gateway", "host"),
}


@dataclass(frozen=True)
class DatabaseConfig:
    """[database]"""

    path: Path = Path("/var/lib/smsd/smsd.db")
    busy_timeout_ms: int = 5000
    #: A ``postgresql://`` URL: PostgreSQL (several hosts, one store) instead of the file.
    url: str | None = None


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
class LimitsConfig:
    """[limits]; `quiet_hours` is (start, end) local times, possibly across midnight."""

    replies_per_hour: int = 10
    loop_threshold: int = 3
    loop_window_minutes: int = 10
    broadcast_daily_cap: int = 1000
    quiet_hours: tuple[time, time] | None = None
    broadcast_repeat_hours: int = 24  # the same broadcast again within this needs --force


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


@dataclass(frozen=True)
class ModemDefaultsConfig:
    """[modem]: what every modem's worker does besides messages."""

    balance_ussd: str | None = None  # e.g. "*100#"
    balance_interval_hours: float = 24.0
    balance_low: Decimal | None = None
    liveness_interval_s: float = 60.0


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
class Config:
    """The whole configuration, plus helpers that build what each component takes."""

    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    modems: tuple[ModemConfig, ...] = ()
    gateway: GatewayConfig = field(default_factory=GatewayConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    outgoing: OutgoingConfig = field(default_factory=OutgoingConfig)
    multipart: MultipartConfig = field(default_factory=MultipartConfig)
    modem: ModemDefaultsConfig = field(default_factory=ModemDefaultsConfig)
    billing: BillingConfig = field(default_factory=BillingConfig)
    log: LogConfig = field(default_factory=LogConfig)
    texts: TextsConfig = field(default_factory=TextsConfig)
    keywords: KeywordsConfig = field(default_factory=KeywordsConfig)
    web: WebConfig = field(default_factory=WebConfig)

    @property
    def database_path(self) -> Path:
        """[database] path (after the SMSD_DB override)."""
        return self.database.path

    @property
    def database_target(self) -> str:
        """What `Store.open` takes: [database] url when set, else the path."""
        return self.database.url or str(self.database.path)

    @property
    def partial_timeout(self) -> timedelta:
        """How long an incomplete multipart message waits before it is processed as-is."""
        return timedelta(minutes=self.multipart.timeout_minutes)

    @property
    def log_level(self) -> str:
        """[log] level."""
        return self.log.level

    @property
    def log_format(self) -> str | None:
        """[log] format."""
        return self.log.format

    def rules(self) -> Rules:
        """The router's rules (see `rules_from`)."""
        return rules_from(self)

    def broadcast_policy(self) -> BroadcastPolicy:
        """Quiet hours, caps, repeat window and part cap for broadcasts."""
        limits = self.limits
        return BroadcastPolicy(
            quiet_hours=limits.quiet_hours,
            time_zone=self.gateway.time_zone,
            default_cap=limits.broadcast_daily_cap,
            repeat_window=timedelta(hours=limits.broadcast_repeat_hours),
            max_parts=self.outgoing.max_parts,
        )

    def modem_settings(self) -> list[ModemSettings]:
        """A `modem.settings.ModemSettings` per [[modems]] entry."""
        return [
            ModemSettings(
                url=m.url,
                name=m.name,
                baudrate=m.baudrate,
                rtscts=m.rtscts,
                pin=m.pin,
                storage=m.storage,
                cnmi=m.cnmi,
                command_timeout=m.command_timeout,
                send_timeout=m.send_timeout,
                prompt_timeout=m.prompt_timeout,
                status_reports=self.outgoing.status_reports,
            )
            for m in self.modems
        ]

    def retry_policy(self) -> RetryPolicy:
        """The sender's `RetryPolicy` from [outgoing]."""
        out = self.outgoing
        return RetryPolicy(
            max_attempts=out.max_attempts,
            backoff_base_s=out.backoff_base_s,
            backoff_max_s=out.backoff_max_s,
            validity=timedelta(hours=out.validity_hours),
            status_reports=out.status_reports,
        )

    def balance(self) -> BalanceSettings:
        """[modem] balance_ussd, balance_interval_hours, balance_low."""
        m = self.modem
        return BalanceSettings(m.balance_ussd, m.balance_interval_hours, m.balance_low)

    def worker_timers(self) -> WorkerTimers:
        """The modem worker's timers: [modem] liveness and balance, defaults otherwise."""
        return WorkerTimers(
            liveness_interval=self.modem.liveness_interval_s, balance=self.balance()
        )


_SCHEMA: dict[str, tuple[type[Any], dict[str, Convert]]] = {
    "database": (
        DatabaseConfig,
        {"path": path, "busy_timeout_ms": integer(0), "url": optional_text},
    ),
    "gateway": (
        GatewayConfig,
        {
            "name": text,
            "contact": lambda k, v: "" if v == "" else text(k, v),
            "help_text": gateway_text("help_text"),
            "own_number": optional_text,
            "default_region": region,
            "short_code_max_len": integer(0),
            "frequency": text,
            "time_zone": time_zone,
            "host": optional_text,
        },
    ),
    "limits": (
        LimitsConfig,
        {
            "replies_per_hour": integer(0),
            "loop_threshold": integer(2),
            "loop_window_minutes": integer(1),
            "broadcast_daily_cap": integer(0),
            "quiet_hours": quiet_hours,
            "broadcast_repeat_hours": integer(0),
        },
    ),
    "outgoing": (
        OutgoingConfig,
        {
            "max_attempts": integer(1),
            "backoff_base_s": number,
            "backoff_max_s": number,
            "validity_hours": integer(1),
            "status_reports": boolean,
            "max_parts": integer(1),
            "claim_timeout_s": number,
        },
    ),
    "multipart": (MultipartConfig, {"timeout_minutes": integer(1)}),
    "modem": (
        ModemDefaultsConfig,
        {
            "balance_ussd": ussd_code,
            "balance_interval_hours": number,
            "balance_low": price,
            "liveness_interval_s": number,
        },
    ),
    "texts": (TextsConfig, TEXTS_SCHEMA),
    "keywords": (KeywordsConfig, KEYWORDS_SCHEMA),
    "log": (
        LogConfig,
        {"level": choice("debug", "info", "warning", "error"), "format": format_value},
    ),
    "web": (
        WebConfig,
        {
            "listen": text,
            "approve_businesses": boolean,
            "session_idle_minutes": integer(1),
            "session_absolute_hours": integer(1),
            "signin_free_failures": integer(1),
            "lockout_minutes": integer(1),
            "lockout_max_minutes": integer(1),
            "code_minutes": integer(1),
            "proxy_headers": boolean,
            "workers": integer(1),
        },
    ),
    "billing": (
        BillingConfig,
        {
            "price_per_request": price,
            "price_per_broadcast_part": price,
            "currency": lambda k, v: text(k, v).upper(),
        },
    ),
}

_MODEM_SCHEMA: dict[str, Convert] = {
    "url": text,
    "name": text,
    "pin": lambda k, v: None if v in ("", None) else str(v),
    "baudrate": integer(1),
    "rtscts": boolean,
    "storage": lambda k, v: text(k, v).upper(),
    "cnmi": text,
    "command_timeout": number,
    "send_timeout": number,
    "prompt_timeout": number,
}


def _build(section: str, cls: type[_T], schema: Mapping[str, Convert], raw: object) -> _T:
    if not isinstance(raw, dict):
        raise ConfigError(f"{section}: expected a table, got {raw!r}")
    unknown = sorted(set(raw) - set(schema))
    if unknown:
        raise ConfigError(f"{section}.{unknown[0]}: unknown key (known: {', '.join(schema)})")
    values = {key: schema[key](f"{section}.{key}", value) for key, value in raw.items()}
    try:
        return cls(**values)
    except TypeError as exc:
        raise ConfigError(f"{section}: {exc}") from exc


def _read_toml(path: Path | None, env: Mapping[str, str]) -> dict[str, Any]:
    explicit = path is not None or "SMSD_CONFIG" in env
    target = path or Path(env.get("SMSD_CONFIG", str(DEFAULT_CONFIG_PATH)))
    try:
        with target.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        if explicit:
            raise ConfigError(f"{target}: configuration file not found") from None
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{target}: invalid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{target}: cannot read: {exc.strerror}") from exc


def _apply_env(data: dict[str, Any], env: Mapping[str, str]) -> None:
    for name, value in env.items():
        if name in _ALIASES:
            section, key = _ALIASES[name]
        elif name.startswith("SMSD_") and name != "SMSD_CONFIG":
            rest = name[len("SMSD_") :].lower()
            section = next((s for s in _SCHEMA if rest.startswith(s + "_")), "")
            key = rest[len(section) + 1 :]
            if not section or key not in _SCHEMA[section][1]:
                continue  # other SMSD_* variables (logging, demo) are not ours
        else:
            continue
        table = data.setdefault(section, {})
        if isinstance(table, dict):
            table[key] = value


def load_config(
    path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Config:
    """Read, override from `env` (default `os.environ`) and validate the configuration."""
    env = os.environ if env is None else env
    data = _read_toml(None if path is None else Path(path), env)
    _apply_env(data, env)
    unknown = sorted(set(data) - set(_SCHEMA) - {"modems"})
    if unknown:
        raise ConfigError(f"{unknown[0]}: unknown section")
    sections = {
        name: _build(name, cls, schema, data.get(name, {}))
        for name, (cls, schema) in _SCHEMA.items()
    }
    raw_modems = data.get("modems", [])
    if not isinstance(raw_modems, list):
        raise ConfigError("modems: expected [[modems]] tables")
    modems = tuple(
        _build(f"modems[{i}]", ModemConfig, _MODEM_SCHEMA, m) for i, m in enumerate(raw_modems)
    )
    names = [m.name for m in modems]
    if len(set(names)) != len(names):
        raise ConfigError("modems: each modem needs a distinct name")
    return Config(modems=modems, **sections)


def rules_from(config: Config) -> Rules:
    """The router's `Rules` from the configuration (texts keep the router's defaults)."""
    gateway, limits = config.gateway, config.limits
    defaults = Rules()
    texts = {"help_text": gateway.help_text or defaults.help_text, **config.texts.overrides()}
    return Rules(
        gateway_name=gateway.name,
        contact=gateway.contact,
        frequency=gateway.frequency,
        vocabulary=vocabulary(config.keywords),
        **texts,
        own_number=gateway.own_number,
        replies_per_hour=limits.replies_per_hour,
        short_code_max_len=gateway.short_code_max_len,
        loop_threshold=limits.loop_threshold,
        loop_window=timedelta(minutes=limits.loop_window_minutes),
    )
