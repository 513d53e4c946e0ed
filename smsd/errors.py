"""Errors raised by the daemon layer.

::

    SmsdError
    ├── ConfigError       the configuration file or an environment override is invalid
    ├── DaemonError       the daemon cannot start (no modem could be opened, database unusable)
    ├── Refused           an operator action refused for safety (opted-out number, repeated
    │                     broadcast, too many parts): the message says how to proceed
    └── TemplateError     a text with an unknown or unclosed placeholder (smsd.templates)
"""

from __future__ import annotations

__all__ = ["ConfigError", "DaemonError", "Refused", "SmsdError"]


class SmsdError(Exception):
    """Root of every error raised by ``smsd``."""


class ConfigError(SmsdError):
    """The configuration is invalid; the message names the key and the problem."""


class DaemonError(SmsdError):
    """The daemon cannot start or keep running."""


class Refused(SmsdError):
    """An operator action refused for safety; the one-line message names the way through."""
