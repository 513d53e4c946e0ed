"""What the API and the webhook deliverer are told: a frozen dataclass, from config and env.

`Policy` carries the gateway rules a request must respect (number region, broadcast cap and
quiet hours); `IntegrationSettings` the deliverer's knobs. Defaults meet issue 15: the first
retry within 10 s, then doubling with jitter, for up to 24 h. Environment overrides follow
the config's `SMSD_<SECTION>_<KEY>` form: `SMSD_WEBHOOKS_RETRY_BASE_S=0.05` (tests); the
config's [webhooks] section sets them in the file (`delivery_settings`), the environment still wins.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace

from smsd.config import Config
from smsd.config_services import WebhooksConfig
from smsd.errors import ConfigError
from smsd.settings import BroadcastPolicy

__all__ = ["IntegrationSettings", "Policy", "delivery_settings", "with_env"]


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


# The [webhooks] section is the deliverer's settings: one set of fields, in the config.
IntegrationSettings = WebhooksConfig


def delivery_settings(config: Config) -> IntegrationSettings:
    """The [webhooks] section of a loaded configuration, overridden by the environment."""
    return with_env(config.webhooks)


def with_env(
    settings: IntegrationSettings, env: Mapping[str, str] | None = None
) -> IntegrationSettings:
    """`settings` overridden by `SMSD_WEBHOOKS_<FIELD>` variables."""
    source = os.environ if env is None else env
    changes: dict[str, float | int] = {}
    for f in fields(settings):
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
    return replace(settings, **changes)  # type: ignore[arg-type]
