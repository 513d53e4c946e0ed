"""Bringing a modem up: echo off, verbose errors, SIM PIN (once), PDU mode, storage, CNMI.

Runs through any ``command`` callable so it can be tested without a port. The one rule that
matters most here: a PIN is sent at most once. Three wrong tries lock the SIM to its PUK, so a
refused (or unanswered) PIN raises :class:`~modem.errors.PinError` and is never retried.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

import structlog

from modem.errors import AtError, CmeError, CmsError, ModemTimeout, PinError
from modem.reports import ReportRouting, decide_routing
from modem.status import Commander, reply_fields

__all__ = ["InitPlan", "Pause", "run_initialise", "unlock_sim"]

log = structlog.get_logger()

_PIN = re.compile(r"[0-9]{4,8}")
_STORAGE = re.compile(r"[A-Z]{2}")
_CNMI = re.compile(r"AT\+CNMI=[0-9,]*", re.IGNORECASE)
_T = TypeVar("_T")

Pause = Callable[[float], object]
"""Waits up to the given seconds (``lost.wait``: returns early when the port dies)."""


@dataclass(frozen=True)
class InitPlan:
    """What ``run_initialise`` sends; built from ``ModemSettings`` by the Modem."""

    pin: str | None = None
    storage: str = "SM"
    cnmi: str = "AT+CNMI=2,1,0,2,0"
    extra_init: tuple[str, ...] = ()
    status_reports: bool = True
    ready_timeout: float = 30.0
    retry_interval: float = 0.5
    on_pin_refused: Callable[[], object] | None = None  # so the owner never sends it again


def _sim_busy(exc: AtError) -> bool:
    """+CMS 515 / +CME 14: the SIM is still starting (seconds after the PIN); worth retrying."""
    if isinstance(exc, CmsError):
        return exc.code in (512, 515)
    return isinstance(exc, CmeError) and exc.code == 14


def _when_ready(run: Callable[[], _T], deadline: float, pause: Pause, interval: float = 0.5) -> _T:
    """``run()``, retried while the SIM answers "busy" and the deadline allows."""
    while True:
        try:
            return run()
        except AtError as exc:
            if not _sim_busy(exc) or time.monotonic() >= deadline:
                raise
        pause(min(interval, max(0.0, deadline - time.monotonic())))


def _cpin_state(command: Commander, deadline: float, pause: Pause, interval: float = 0.5) -> str:
    lines = _when_ready(lambda: command("AT+CPIN?"), deadline, pause, interval)
    fields = reply_fields(lines, "+CPIN")
    if not fields or not fields[0]:
        raise AtError("AT+CPIN?", "no +CPIN: line in the reply")
    return fields[0].upper()


def unlock_sim(
    command: Commander,
    pin: str | None,
    deadline: float,
    pause: Pause,
    interval: float = 0.5,
    on_refused: Callable[[], object] | None = None,
) -> None:
    """Make the SIM READY, sending ``pin`` at most once; PinError when we must not go on."""
    state = _cpin_state(command, deadline, pause, interval)
    if state == "READY":
        return
    if state != "SIM PIN":
        raise PinError(f"SIM wants {state}; enter it by hand, smsd never guesses")
    if pin is None:
        raise PinError("SIM wants a PIN and none is configured")
    if not _PIN.fullmatch(pin):
        raise PinError("configured PIN is not 4-8 digits; not sent")
    try:
        command(f'AT+CPIN="{pin}"')
    except (AtError, ModemTimeout) as exc:
        log.error("sim_pin_refused")
        if on_refused is not None:
            on_refused()
        raise PinError("SIM refused the configured PIN; not retried (3 tries lock it)") from exc
    log.info("sim_pin_entered")
    while True:
        state = _cpin_state(command, deadline, pause, interval)
        if state == "READY":
            return
        if state in ("SIM PIN", "SIM PUK"):
            if on_refused is not None:
                on_refused()
            raise PinError(f"SIM still wants {state} after the PIN; not retried")
        if time.monotonic() >= deadline:
            raise ModemTimeout(f"SIM not ready after the PIN (last state {state})")
        pause(interval)


def run_initialise(command: Commander, plan: InitPlan, pause: Pause) -> ReportRouting:
    """ATE0, AT+CMEE=1, SIM PIN, AT+CMGF=0, AT+CPMS, AT+CNMI, AT+CSMP?, extra commands.

    The CNMI's ``<ds>`` (status reports) is chosen from what the modem offers
    (:func:`modem.reports.decide_routing`); the routing chosen is returned."""
    if not _STORAGE.fullmatch(plan.storage):
        raise ValueError(f"storage must be two capital letters like SM or ME: {plan.storage!r}")
    if not _CNMI.fullmatch(plan.cnmi):
        raise ValueError(f"cnmi must look like AT+CNMI=2,1,0,2,0: {plan.cnmi!r}")
    command("ATE0")
    command("AT+CMEE=1")
    deadline = time.monotonic() + plan.ready_timeout
    unlock_sim(
        command, plan.pin, deadline, pause, plan.retry_interval, on_refused=plan.on_pin_refused
    )
    storage = plan.storage
    for cmd in ("AT+CMGF=0", f'AT+CPMS="{storage}","{storage}","{storage}"'):
        _when_ready(partial(command, cmd), deadline, pause, plan.retry_interval)
    routing = decide_routing(command, plan.cnmi, storage, wanted=plan.status_reports)
    _when_ready(partial(command, routing.cnmi), deadline, pause, plan.retry_interval)
    try:
        command("AT+CSMP?")  # informational only (text-mode defaults); many modems lack it
    except AtError:
        log.debug("csmp_unsupported")
    for extra in plan.extra_init:
        command(extra)
    log.info("modem_initialised", storage=storage, status_reports=routing.mode)
    return routing
