"""Logging set-up: JSON lines under systemd (or when asked), pretty on a TTY.

Event names are snake_case past tense (``sms_received``) with key=value context. Message bodies,
phone numbers and user codes are never logged at info level; at debug level they may appear,
always under keys that start with ``pii_`` so they are easy to spot and to filter.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

__all__ = ["configure_logging", "drop_pii"]

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def drop_pii(
    _logger: Any, method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Remove ``pii_*`` keys unless the event is logged at debug level."""
    if method != "debug":
        for key in [k for k in event if k.startswith("pii_")]:
            del event[key]
    return event


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is now (tests and Click swap it), not at set-up time."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def _colour() -> bool:
    """Colour on a terminal, unless NO_COLOR is set to anything (https://no-color.org)."""
    return sys.stderr.isatty() and not os.environ.get("NO_COLOR")


def configure_logging(level: str = "info", fmt: str | None = None) -> None:
    """Configure structlog for the daemon and the CLI.

    ``fmt`` is ``json`` or ``console``; by default JSON unless stderr is a TTY
    (``SMSD_LOG_FORMAT`` overrides, as the systemd unit does). The console is coloured on a
    TTY unless ``NO_COLOR`` is set.
    """
    fmt = fmt or os.environ.get("SMSD_LOG_FORMAT") or ("console" if sys.stderr.isatty() else "json")
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=_colour())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            drop_pii,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS.get(level, logging.INFO)),
        logger_factory=structlog.PrintLoggerFactory(file=_CurrentStderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )
