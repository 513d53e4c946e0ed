"""smsactive: the `modem` layer (see docs/ARCHITECTURE.md).

Transport (pyserial URLs), the sans-IO AT parser, the PDU codec, the port owner and the
simulated modem. Never imports `store` or `smsd`. Errors are the tree in `modem.errors`.
"""

from modem.errors import (
    AtError,
    CmeError,
    CmsError,
    ModemError,
    ModemTimeout,
    PduError,
    PinError,
    PortClosed,
)

__all__ = [
    "AtError",
    "CmeError",
    "CmsError",
    "ModemError",
    "ModemTimeout",
    "PduError",
    "PinError",
    "PortClosed",
]
