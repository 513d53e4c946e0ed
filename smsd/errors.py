"""Errors raised by the daemon layer.

::

    SmsdError
    ├── ConfigError       the configuration file or an environment override is invalid
    └── DaemonError       the daemon cannot start (no modem could be opened, database unusable)
"""

from __future__ import annotations

__all__ = ["ConfigError", "DaemonError", "SmsdError"]


class SmsdError(Exception):
    """Root of every error raised by ``smsd``."""


class ConfigError(SmsdError):
    """The configuration is invalid; the message names the key and the problem."""


class DaemonError(SmsdError):
    """The daemon cannot start or keep running."""
