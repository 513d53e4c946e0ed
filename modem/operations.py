"""What a modem does over its command interface: initialise, stored messages, acknowledge.

Functions of a :class:`~modem.status.Commander` (``Modem.command``), as :mod:`modem.status`
and :mod:`modem.modem_init` are; :class:`~modem.modem.Modem` exposes each as a method.
Nothing here touches the port, the reader or the lock.
"""

from __future__ import annotations

from collections.abc import Callable

from modem.errors import CmsError, PinError
from modem.guards import check_index
from modem.modem_init import InitPlan, Pause, run_initialise
from modem.reports import ReportRouting
from modem.settings import ModemSettings
from modem.status import Commander, StoredMessage, parse_cmgl, parse_cmgr

__all__ = [
    "ack",
    "delete_stored",
    "forget_refused_pins",
    "initialise",
    "list_stored",
    "read_stored",
]

_REFUSED_PINS: set[tuple[str, str]] = set()  # (url, pin) pairs a SIM refused in this process


def forget_refused_pins() -> None:
    """Allow refused PINs to be sent again (after an operator fixed the configuration)."""
    _REFUSED_PINS.clear()


def initialise(
    command: Commander,
    settings: ModemSettings,
    *,
    wait_ready: Callable[[], None],
    pause: Pause,
    ready_timeout: float,
    retry_interval: float,
) -> ReportRouting:
    """ATE0, AT+CMEE=1, SIM PIN (once), AT+CMGF=0, AT+CPMS, AT+CNMI, AT+CSMP?, extras.

    A PIN the SIM refused is remembered for the whole process (per port URL): reconnects
    and new Modem objects raise PinError without sending it again, since three wrong
    tries lock the SIM."""
    key = (settings.url, settings.pin or "")
    if key in _REFUSED_PINS:
        raise PinError("this PIN was refused before; fix the configuration and restart")
    wait_ready()
    plan = InitPlan(
        pin=settings.pin,
        storage=settings.storage,
        cnmi=settings.cnmi,
        extra_init=settings.extra_init,
        status_reports=settings.status_reports,
        ready_timeout=ready_timeout,
        retry_interval=retry_interval,
        on_pin_refused=lambda: _REFUSED_PINS.add(key),
    )
    return run_initialise(command, plan, pause)


def list_stored(command: Commander) -> list[StoredMessage]:
    """Every message in the selected storage (AT+CMGL=4, PDU mode)."""
    return parse_cmgl(command("AT+CMGL=4"))


def read_stored(command: Commander, index: int) -> StoredMessage | None:
    """The message at ``index`` (AT+CMGR), or None if the slot is empty."""
    check_index(index)
    try:
        return parse_cmgr(command(f"AT+CMGR={index}"), index)
    except CmsError as exc:
        if exc.code == 321:  # invalid memory index: nothing stored there
            return None
        raise


def delete_stored(command: Commander, index: int) -> None:
    """Delete one stored message (AT+CMGD=<index>); there is deliberately no bulk delete."""
    check_index(index)
    command(f"AT+CMGD={index}")


def ack(command: Commander) -> None:
    """Acknowledge a directly delivered +CMT/+CDS (AT+CNMA), as phase 2+ modems require."""
    command("AT+CNMA")
