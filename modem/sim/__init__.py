"""The simulated GSM modem: part of the product, so ``smsd`` runs without hardware.

Modules: :mod:`~modem.sim.simulator` (:class:`SimModem`, lifecycle and public API),
:mod:`~modem.sim.wire` (bytes in, replies and URCs out), :mod:`~modem.sim.port` (pty and
thread), :mod:`~modem.sim.commands` (AT interpreter), :mod:`~modem.sim.storage` (SIM slots),
:mod:`~modem.sim.network` (incoming, +CNMA, status reports), :mod:`~modem.sim.profiles`
(dialects), :mod:`~modem.sim.faults` (power cycle and faults) and :mod:`~modem.sim.control`
(the JSON-lines control socket). Uses :mod:`modem.pdu`; the driver never imports this package.
"""

from modem.sim.control import SimNotRunning, control_request
from modem.sim.profiles import PROFILES
from modem.sim.simulator import SimModem

__all__ = ["PROFILES", "SimModem", "SimNotRunning", "control_request"]
