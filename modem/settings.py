"""Value types shared across the modem's edge: how to reach and set up one modem.

A leaf module (standard library only, no pyserial) so that ``smsd.config`` can build
:class:`ModemSettings` at import time without loading the driver.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ModemSettings"]


@dataclass(frozen=True)
class ModemSettings:
    """How to reach and set up one modem (built by ``smsd.config``)."""

    url: str
    name: str = "modem0"
    baudrate: int = 115200
    rtscts: bool = False
    pin: str | None = None
    storage: str = "SM"
    cnmi: str = "AT+CNMI=2,1,0,2,0"
    command_timeout: float = 10.0
    send_timeout: float = 90.0
    prompt_timeout: float = 10.0
    extra_init: tuple[str, ...] = ()
    status_reports: bool = True
