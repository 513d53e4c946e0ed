"""Errors raised by the modem layer.

Every error the modem layer raises derives from :class:`ModemError`::

    ModemError
    ├── PduError          a PDU could not be decoded or a message could not be encoded
    ├── AtError           the modem answered a command with an error result
    │   ├── CmsError      +CMS ERROR: <n> (message service)
    │   └── CmeError      +CME ERROR: <n> (equipment)
    ├── ModemTimeout      no final result (or no ``> `` prompt) before the deadline
    ├── PinError          the SIM wants a PIN/PUK we must not guess (never retried)
    ├── UssdError         no USSD answer, refused, not supported or unreadable
    └── PortClosed        the port went away: unplugged, I/O error, closed

Lower-layer exceptions (``serial.SerialException``, ``OSError``) are translated into
``PortClosed`` in exactly one place, the transport/reader, with ``raise ... from exc``.
"""

from __future__ import annotations

__all__ = [
    "AtError",
    "CmeError",
    "CmsError",
    "ModemError",
    "ModemTimeout",
    "PduError",
    "PinError",
    "PortClosed",
    "UssdError",
]


class ModemError(Exception):
    """Root of every error raised by ``modem``."""


class PduError(ModemError):
    """A PDU is malformed or a message cannot be encoded; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AtError(ModemError):
    """The modem answered ``ERROR``, ``+CMS ERROR`` or ``+CME ERROR``."""

    def __init__(self, command: str, text: str, code: int | None = None) -> None:
        super().__init__(f"{command!r} failed: {text}")
        self.command = command
        self.text = text
        self.code = code


class CmsError(AtError):
    """``+CMS ERROR: <n>``: a message-service error (3GPP TS 27.005 §3.2.5)."""


class CmeError(AtError):
    """``+CME ERROR: <n>``: an equipment error (3GPP TS 27.007 §9.2)."""


class ModemTimeout(ModemError):
    """No final result code arrived before the monotonic deadline."""


class PinError(ModemError):
    """The SIM needs a PIN or PUK we were not given, or the configured PIN was refused."""


class PortClosed(ModemError):
    """The serial port is gone (unplugged, I/O error) or was closed."""


class UssdError(ModemError):
    """A USSD request got no usable answer: refused, unsupported, ended, missing, unreadable."""
