"""Value converters for the configuration: each takes (key, value) and returns the checked
value or raises ``ConfigError`` naming the key.

Cheap to import (a one-shot command builds its sections with these): the time-zone database
is opened only when a time zone is configured, `decimal` only when a price is read.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smsd.errors import ConfigError

if TYPE_CHECKING:
    from decimal import Decimal

__all__ = [
    "Convert", "boolean", "choice", "gateway_text", "integer", "log_format", "number",
    "optional_text", "path", "positive", "price", "quiet_hours", "region", "text", "time_zone",
    "ussd_code",
]  # fmt: skip


Convert = Callable[[str, Any], Any]


def integer(minimum: int) -> Convert:
    def convert(key: str, value: Any) -> int:
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ConfigError(f"{key}: expected an integer >= {minimum}, got {value!r}")
        return value

    return convert


def number(key: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if isinstance(value, bool) or number < 0:
        raise ConfigError(f"{key}: expected a number >= 0, got {value!r}")
    return number


def positive(key: str, value: Any) -> float:
    """A number > 0 (a duration or rate that must not be zero)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if isinstance(value, bool) or not number > 0:
        raise ConfigError(f"{key}: expected a number > 0, got {value!r}")
    return number


def boolean(key: str, value: Any) -> bool:
    if isinstance(value, str) and value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"0", "false", "no", "off"}:
        return False
    if not isinstance(value, bool):
        raise ConfigError(f"{key}: expected true or false, got {value!r}")
    return value


def text(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{key}: expected a non-empty string, got {value!r}")
    return value.strip()


def optional_text(key: str, value: Any) -> str | None:
    return None if value in ("", None) else text(key, value)


def ussd_code(key: str, value: Any) -> str | None:
    """A USSD code such as ``*100#`` (digits, ``*``, ``#``, ``+``); it becomes part of an AT
    command, so nothing else passes."""
    code = optional_text(key, value)
    if code is not None and not re.fullmatch(r"[0-9*#+]{1,32}", code):
        raise ConfigError(f"{key}: expected a USSD code like '*100#', got {value!r}")
    return code


def path(key: str, value: Any) -> Path:
    return Path(text(key, value))


def region(key: str, value: Any) -> str:
    code = text(key, value).upper()
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise ConfigError(f"{key}: expected a two-letter region code like 'GB', got {value!r}")
    return code


def price(key: str, value: Any) -> Decimal:
    from decimal import Decimal, InvalidOperation  # start-up cost: only [billing] has prices

    try:
        price = Decimal(str(value))
    except InvalidOperation:
        price = Decimal(-1)
    if isinstance(value, bool) or not price.is_finite() or price < 0:
        raise ConfigError(f"{key}: expected a price >= 0, got {value!r}")
    return price


def choice(*allowed: str) -> Convert:
    def convert(key: str, value: Any) -> str:
        text = str(value).strip().lower()
        if text not in allowed:
            raise ConfigError(f"{key}: expected one of {', '.join(allowed)}, got {value!r}")
        return text

    return convert


def log_format(key: str, value: Any) -> str | None:
    return None if value in ("", None) else choice("json", "console")(key, value)


def quiet_hours(key: str, value: Any) -> tuple[time, time] | None:
    if value in ("", None):
        return None
    match = re.fullmatch(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})", str(value).strip())
    try:
        assert match is not None
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        return time(h1, m1), time(h2, m2)
    except (AssertionError, ValueError):
        raise ConfigError(f"{key}: expected 'HH:MM-HH:MM', got {value!r}") from None


def time_zone(key: str, value: Any) -> str | None:
    """An IANA time-zone name (``Europe/London``), checked against the zone database."""
    if value in ("", None):
        return None
    # Start-up cost: zoneinfo (and its tzpath scan) only when a zone is configured.
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = str(value).strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{key}: unknown time zone {value!r} (e.g. 'Europe/London')") from None
    return name


def gateway_text(field: str) -> Convert:
    """A gateway text of `smsd.settings.Rules` (`field`), its placeholders checked; "" is unset."""

    def convert(key: str, value: Any) -> str | None:
        # Start-up cost: the template checker (its regexes) only when a [texts] value is set.
        from smsd.templates import TEXT_FIELDS, TemplateError, check_gateway

        if value in ("", None):
            return None
        try:
            return check_gateway(key, str(value), TEXT_FIELDS[field])
        except TemplateError as exc:
            raise ConfigError(str(exc)) from None

    return convert
