"""Configuration: a frozen `Config` from TOML plus `SMSD_*` environment overrides.

Lookup: the `path` argument, else `$SMSD_CONFIG`, else `/etc/smsd/smsd.toml` (defaults when
that default file does not exist). Every scalar key can be overridden by
`SMSD_<SECTION>_<KEY>` (e.g. `SMSD_LIMITS_REPLIES_PER_HOUR=5`); short aliases: `SMSD_DB`
(database.path) and `SMSD_DEFAULT_REGION` (gateway.default_region). Invalid values raise
`ConfigError` naming the key, e.g. ``limits.replies_per_hour: expected an integer >= 1``.

Reading and converting one section is `smsd.config_source.ConfigSource`; `load_config` builds
every section through it (a one-shot command may build only the sections it reads).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from modem.settings import ModemSettings
from smsd.config_rules import (
    KEYWORDS_SCHEMA,
    TEXTS_SCHEMA,
    KeywordsConfig,
    TextsConfig,
    vocabulary,
)
from smsd.config_sections import DatabaseConfig, GatewayConfig, OutgoingConfig
from smsd.config_services import (
    BillingConfig,
    LimitsConfig,
    LogConfig,
    ModemConfig,
    ModemDefaultsConfig,
    MultipartConfig,
    WebConfig,
    WebhooksConfig,
)
from smsd.config_source import (
    DATABASE_SCHEMA,
    DEFAULT_CONFIG_PATH,
    GATEWAY_SCHEMA,
    OUTGOING_SCHEMA,
    ConfigSource,
    Schema,
    build,
)
from smsd.config_values import (
    Convert,
    boolean,
    choice,
    integer,
    number,
    positive,
    price,
    quiet_hours,
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
    "WebhooksConfig",
    "config_from",
    "load_config",
    "rules_from",
]


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
    webhooks: WebhooksConfig = field(default_factory=WebhooksConfig)

    @property
    def database_path(self) -> Path:
        """[database] path (after the SMSD_DB override)."""
        return self.database.path

    @property
    def database_target(self) -> str:
        """What `Store.open` takes: [database] url when set, else the path."""
        return self.database.target

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
        """The modem worker's timers: [modem] liveness, release delay and balance, defaults
        otherwise."""
        m = self.modem
        return WorkerTimers(
            liveness_interval=m.liveness_interval_s,
            release_delay=m.release_delay_s,
            balance=self.balance(),
        )


_SCHEMA: dict[str, tuple[type[Any], Schema]] = {
    "database": (DatabaseConfig, DATABASE_SCHEMA),
    "gateway": (GatewayConfig, GATEWAY_SCHEMA),
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
    "outgoing": (OutgoingConfig, OUTGOING_SCHEMA),
    "multipart": (MultipartConfig, {"timeout_minutes": integer(1)}),
    "modem": (
        ModemDefaultsConfig,
        {
            "balance_ussd": ussd_code,
            "balance_interval_hours": number,
            "balance_low": price,
            "liveness_interval_s": number,
            "release_delay_s": number,
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
    "webhooks": (
        WebhooksConfig,
        {
            "retry_base_s": positive,
            "max_age_h": positive,
            "timeout_s": positive,
            "concurrency": integer(1),
            "poll_s": positive,
            "keep_days": positive,
            "lease_s": positive,
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


def load_config(
    path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Config:
    """Read, override from `env` (default `os.environ`) and validate the configuration."""
    return config_from(ConfigSource.read(path, env, default=DEFAULT_CONFIG_PATH))


def config_from(source: ConfigSource) -> Config:
    """Every section of `source`, checked in order (the first bad key is the error)."""
    sections = {name: source.section(name, cls, schema) for name, (cls, schema) in _SCHEMA.items()}
    raw_modems = source.raw("modems")
    raw_modems = [] if raw_modems is None else raw_modems
    if not isinstance(raw_modems, list):
        raise ConfigError("modems: expected [[modems]] tables")
    modems = tuple(
        build(f"modems[{i}]", ModemConfig, _MODEM_SCHEMA, m) for i, m in enumerate(raw_modems)
    )
    names = [m.name for m in modems]
    if len(set(names)) != len(names):
        raise ConfigError("modems: each modem needs a distinct name")
    config = Config(modems=modems, **sections)
    _check_claim_timeout(config)
    return config


def _check_claim_timeout(config: Config) -> None:
    """A claim must outlive the slowest part a live send waits for: the sender renews it after
    each part, and a host that stalls longer has its row requeued and sent again elsewhere."""
    claim = config.outgoing.claim_timeout_s
    slowest = max([m.send_timeout for m in config.modems] or [ModemConfig(url="").send_timeout])
    if claim <= slowest:
        raise ConfigError(
            f"outgoing.claim_timeout_s: {claim:g} s is not longer than a modem's send_timeout"
            f" ({slowest:g} s): a slow send would be requeued and sent twice; raise it"
            " (default 600) or lower [[modems]] send_timeout"
        )


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
