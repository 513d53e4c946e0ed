"""What the API and the webhook deliverer are told: a frozen dataclass, from config and env.

`Policy` carries the gateway rules a request must respect (number region, broadcast cap and
quiet hours); `IntegrationSettings` the deliverer's knobs. Defaults meet issue 15: the first
retry within 10 s, then doubling with jitter, for up to 24 h. Environment overrides follow
the config's `SMSD_<SECTION>_<KEY>` form: `SMSD_WEBHOOKS_RETRY_BASE_S=0.05` (tests); the
config's [webhooks] section sets them in the file (`from_config`), the environment still wins.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace

from smsd.config import Config
from smsd.errors import ConfigError
from smsd.settings import BroadcastPolicy

__all__ = ["IntegrationSettings", "Policy"]


@dataclass(frozen=True)
class Policy:
    """The rules API requests follow, as the CLI follows them: the region national numbers
    are read in, and the broadcast policy (quiet hours, caps, repeat window, part cap)."""

    default_region: str = "GB"
    broadcast: BroadcastPolicy = field(default_factory=BroadcastPolicy)

    @classmethod
    def from_config(cls, config: Config) -> Policy:
        """The policy of a loaded configuration."""
        return cls(config.gateway.default_region, config.broadcast_policy())


@dataclass(frozen=True)
class IntegrationSettings:
    """Webhook delivery: back-off, give-up age, timeouts, concurrency, polling."""

    retry_base_s: float = 5.0  # first retry after 5-7.5 s (jitter x1-1.5), then doubling
    max_age_h: float = 24.0  # then the delivery is parked as failed (retryable)
    timeout_s: float = 10.0  # per attempt, connect to last byte
    concurrency: int = 64  # attempts in flight at once
    poll_s: float = 0.25  # how often the queue is looked at when idle
    keep_days: float = 7.0  # delivered events older than this are pruned
    lease_s: float = 15.0  # one process delivers; a dead one's turn passes after this

    @classmethod
    def from_config(cls, config: Config) -> IntegrationSettings:
        """The [webhooks] section of a loaded configuration (defaults where it is silent)."""
        hooks = config.webhooks
        return cls(
            retry_base_s=hooks.retry_base_s, max_age_h=hooks.max_age_h, timeout_s=hooks.timeout_s,
            concurrency=hooks.concurrency, poll_s=hooks.poll_s, keep_days=hooks.keep_days,
            lease_s=hooks.lease_s,
        )  # fmt: skip

    def with_env(self, env: Mapping[str, str] | None = None) -> IntegrationSettings:
        """These settings overridden by `SMSD_WEBHOOKS_<FIELD>` variables."""
        source = os.environ if env is None else env
        changes: dict[str, float | int] = {}
        for f in fields(self):
            raw = source.get(f"SMSD_WEBHOOKS_{f.name.upper()}")
            if raw is None:
                continue
            try:
                value = int(raw) if f.type == "int" else float(raw)
            except ValueError as exc:
                raise ConfigError(f"SMSD_WEBHOOKS_{f.name.upper()}: not a number: {raw!r}") from exc
            if value <= 0:
                raise ConfigError(f"SMSD_WEBHOOKS_{f.name.upper()} must be positive")
            changes[f.name] = value
        return replace(self, **changes)  # type: ignore[arg-type]
