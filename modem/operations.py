"""The Modem's operations on top of ``command()``: initialise, status, stored messages.

A mixin so that ``modem.modem`` stays about the port, the reader and the lock; everything here
goes through ``self.command`` and needs no port internals.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from modem.errors import CmsError, PinError
from modem.guards import check_index
from modem.modem_init import InitPlan, run_initialise
from modem.status import ModemStatus, StoredMessage, gather_status, parse_cmgl, parse_cmgr

if TYPE_CHECKING:
    from modem.modem import ModemSettings

__all__ = ["ModemOperations", "forget_refused_pins"]

_REFUSED_PINS: set[tuple[str, str]] = set()  # (url, pin) pairs a SIM refused in this process


def forget_refused_pins() -> None:
    """Allow refused PINs to be sent again (after an operator fixed the configuration)."""
    _REFUSED_PINS.clear()


class ModemOperations:
    """initialise/status/list_stored/read_stored/delete_stored/ack for :class:`Modem`."""

    # Provided by Modem:
    settings: ModemSettings
    lost: threading.Event
    SIM_READY_TIMEOUT: float
    SIM_RETRY_INTERVAL: float

    def command(self, cmd: str, timeout: float | None = None) -> list[str]:
        """Run one AT command (implemented by Modem)."""
        raise NotImplementedError

    def wait_ready(self, timeout: float | None = None) -> None:
        """Wait until the modem answers AT (implemented by Modem)."""
        raise NotImplementedError

    def initialise(self) -> None:
        """ATE0, AT+CMEE=1, SIM PIN (once), AT+CMGF=0, AT+CPMS, AT+CNMI, AT+CSMP?, extras.

        A PIN the SIM refused is remembered for the whole process (per port URL): reconnects
        and new Modem objects raise PinError without sending it again, since three wrong
        tries lock the SIM."""
        s = self.settings
        key = (s.url, s.pin or "")
        if key in _REFUSED_PINS:
            raise PinError("this PIN was refused before; fix the configuration and restart")
        self.wait_ready()
        plan = InitPlan(
            pin=s.pin,
            storage=s.storage,
            cnmi=s.cnmi,
            extra_init=s.extra_init,
            ready_timeout=self.SIM_READY_TIMEOUT,
            retry_interval=self.SIM_RETRY_INTERVAL,
            on_pin_refused=lambda: _REFUSED_PINS.add(key),
        )
        run_initialise(self.command, plan, self.lost.wait)

    def status(self) -> ModemStatus:
        """Identity, SIM state, registration, operator, signal (dBm) and storage use."""
        return gather_status(self.command)

    def list_stored(self) -> list[StoredMessage]:
        """Every message in the selected storage (AT+CMGL=4, PDU mode)."""
        return parse_cmgl(self.command("AT+CMGL=4"))

    def read_stored(self, index: int) -> StoredMessage | None:
        """The message at ``index`` (AT+CMGR), or None if the slot is empty."""
        check_index(index)
        try:
            return parse_cmgr(self.command(f"AT+CMGR={index}"), index)
        except CmsError as exc:
            if exc.code == 321:  # invalid memory index: nothing stored there
                return None
            raise

    def delete_stored(self, index: int) -> None:
        """Delete one stored message (AT+CMGD=<index>); there is deliberately no bulk delete."""
        check_index(index)
        self.command(f"AT+CMGD={index}")

    def ack(self) -> None:
        """Acknowledge a directly delivered +CMT/+CDS (AT+CNMA), as phase 2+ modems require."""
        self.command("AT+CNMA")
