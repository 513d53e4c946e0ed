"""The configuration file and its `SMSD_*` overrides, read once; each section built when asked.

`ConfigSource.read(path)` reads the TOML (the `path` argument, else `$SMSD_CONFIG`, else
`/etc/smsd/smsd.toml`, defaults when that default file does not exist) and refuses an unknown
section; `section(name, cls, schema)` overlays the section's `SMSD_<SECTION>_<KEY>` variables
and the short aliases (`SMSD_DB`, `SMSD_DEFAULT_REGION`, `SMSD_HOST`) and converts it, raising
`ConfigError` naming the key.

`smsd.config.load_config` builds every section through this object, so the whole file is
checked; a one-shot command builds only what it reads (`smsd send`: `gateway()` for the
default region and `outgoing()` for the part cap) and never imports the other sections'
classes, the router's rules or the modem settings. A start-up optimisation: `smsd send` is the
command scripts call in a loop.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from smsd.config_sections import DatabaseConfig, GatewayConfig, OutgoingConfig
from smsd.config_values import (
    Convert,
    boolean,
    gateway_text,
    integer,
    number,
    optional_text,
    path,
    region,
    text,
    time_zone,
)
from smsd.errors import ConfigError

__all__ = [
    "DATABASE_SCHEMA",
    "DEFAULT_CONFIG_PATH",
    "GATEWAY_SCHEMA",
    "OUTGOING_SCHEMA",
    "SECTION_NAMES",
    "ConfigSource",
    "Schema",
]

DEFAULT_CONFIG_PATH = Path("/etc/smsd/smsd.toml")
#: Every [section] the configuration may have, in the order `load_config` checks them.
SECTION_NAMES = (
    "database", "gateway", "limits", "outgoing", "multipart", "modem", "texts", "keywords",
    "log", "web", "billing", "webhooks",
)  # fmt: skip
_ALIASES = {
    "SMSD_DB": ("database", "path"),
    "SMSD_DEFAULT_REGION": ("gateway", "default_region"),
    "SMSD_HOST": ("gateway", "host"),
}
_T = TypeVar("_T")

#: Each key of a section and the converter that checks its value.
Schema = Mapping[str, Convert]

DATABASE_SCHEMA: Schema = {"path": path, "busy_timeout_ms": integer(0), "url": optional_text}
GATEWAY_SCHEMA: Schema = {
    "name": text,
    "contact": lambda k, v: "" if v == "" else text(k, v),
    "help_text": gateway_text("help_text"),
    "own_number": optional_text,
    "default_region": region,
    "short_code_max_len": integer(0),
    "frequency": text,
    "time_zone": time_zone,
    "host": optional_text,
}
OUTGOING_SCHEMA: Schema = {
    "max_attempts": integer(1),
    "backoff_base_s": number,
    "backoff_max_s": number,
    "validity_hours": integer(1),
    "status_reports": boolean,
    "max_parts": integer(1),
    "claim_timeout_s": number,
}


def build(section: str, cls: type[_T], schema: Schema, raw: object) -> _T:
    """`cls` from the TOML table `raw`, each value converted; `ConfigError` naming the key."""
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


def _read_toml(path: Path | None, env: Mapping[str, str], default: Path) -> dict[str, Any]:
    explicit = path is not None or "SMSD_CONFIG" in env
    target = path or Path(env.get("SMSD_CONFIG", str(default)))
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


class ConfigSource:
    """The parsed file and the environment; sections are converted on demand."""

    def __init__(self, data: Mapping[str, Any], env: Mapping[str, str]) -> None:
        unknown = sorted(set(data) - set(SECTION_NAMES) - {"modems"})
        if unknown:
            raise ConfigError(f"{unknown[0]}: unknown section")
        self._data = data
        self._env = env

    @classmethod
    def read(
        cls,
        path: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        *,
        default: Path = DEFAULT_CONFIG_PATH,
    ) -> ConfigSource:
        """Read the file (see the module docstring); `env` defaults to `os.environ`, `default`
        is the file read when neither `path` nor `$SMSD_CONFIG` names one."""
        env = os.environ if env is None else env
        return cls(_read_toml(None if path is None else Path(path), env, default), env)

    def raw(self, name: str) -> object:
        """The TOML value of top-level key `name` (None when absent), without overrides."""
        return self._data.get(name)

    def table(self, name: str, schema: Schema) -> object:
        """Section `name` as read, with its `SMSD_*` overrides applied (a later one wins)."""
        table = self._data.get(name, {})
        prefix = f"{name}_"
        for var, value in self._env.items():
            if var in _ALIASES:
                section, key = _ALIASES[var]
            elif var.startswith("SMSD_") and var[5:].lower().startswith(prefix):
                section, key = name, var[5:].lower().removeprefix(prefix)
                if key not in schema:
                    continue  # other SMSD_* variables (logging, demo) are not ours
            else:
                continue
            if section == name and isinstance(table, dict):
                table = {**table, key: value}
        return table

    def section(self, name: str, cls: type[_T], schema: Schema) -> _T:
        """Section `name` as a `cls`, overridden from the environment and checked."""
        return build(name, cls, schema, self.table(name, schema))

    def database(self) -> DatabaseConfig:
        """[database]."""
        return self.section("database", DatabaseConfig, DATABASE_SCHEMA)

    def gateway(self) -> GatewayConfig:
        """[gateway]."""
        return self.section("gateway", GatewayConfig, GATEWAY_SCHEMA)

    def outgoing(self) -> OutgoingConfig:
        """[outgoing]."""
        return self.section("outgoing", OutgoingConfig, OUTGOING_SCHEMA)
