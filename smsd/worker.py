"""One worker per modem: keeps a session open, takes messages in, sends messages out.

The worker is the only user of its :class:`modem.modem.Modem`. It reacts to URCs at once
(they arrive on its queue from the modem's reader thread), sends what the outbox has due,
and sweeps the SIM on connect and then on a slow timer (the safety net for +CMTI that
never came). A port error or an unanswered probe ends the session; the worker reconnects
with exponential back-off, re-opens the same path, re-runs the init and sweeps again.

Never-lose order for an incoming message: read it from the modem, commit it to the store
(recorded and routed in one transaction), then delete it from the modem. A crash before the
commit leaves it on the SIM (the next sweep finds it); a crash after the commit is caught by
the store's dedupe key. URCs that queued up while the worker was busy are handled together,
so their messages are committed as one batch (:meth:`smsd.ingest.Ingest.handle_urcs`). The
deleted copies' keys ride in the next burst's transaction; an idle worker releases them
after ``release_delay`` (`smsd.releases`), and so does a session's end.

A reboot announced while the session is serving (boot lines: SIMCom/Quectel ``RDY``, ``SMS
Ready``, ``+QIND: SMS DONE``, Huawei ``^SYSSTART``; or an unsolicited ``+CPIN:``, all a modem
that only says that much has) ends the session at once: an exchange in flight would otherwise
wait for its full timeout (90 s for a send) for an answer the rebooted modem will never give,
and an idle modem has forgotten echo, CNMI and memories. The reconnect comes at once (the
modem is back: it just said so), re-inits and sweeps. A modem that reboots silently is caught
by the idle liveness check: one ``AT+CNMI?`` per idle ``liveness_interval`` (a minute), which
also notices lost settings (echo back on, CNMI drift) and then re-initialises the same way.
While an unplugged device's path is missing, the back-off wait watches for it to come back
(a ``stat`` every 0.2 s) and reconnects as soon as it does.

A store error (database locked too long, disk full) does not end the session: the worker
raises the shared store alarm (:class:`smsd.diskguard.StoreGuard`), stops taking messages
off the modem (URCs are ignored; what they announce stays on the SIM) and sweeps again after
a back-off until a write succeeds.
"""

from __future__ import annotations

import os
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import structlog

from modem.at import Urc
from modem.errors import AtError, ModemError, ModemTimeout, PinError, PortClosed
from modem.modem import Modem
from modem.settings import ModemSettings
from smsd.balance import BalanceKeeper
from smsd.diskguard import StoreGuard
from smsd.ingest import Ingest
from smsd.sender import Sender
from smsd.settings import WorkerTimers
from store.errors import StoreError

__all__ = ["ModemWorker", "is_boot_line"]

log = structlog.get_logger()
_WAKE = object()
# Lines a modem prints only after power-up. Not Huawei's ^BOOT: it repeats as a keep-alive.
_REBOOT_URCS = frozenset({"RDY", "SMS Ready", "Call Ready", "^SYSSTART", "+CPIN"})
_REBOOT_QIND = "SMS DONE"  # Quectel's +QIND: SMS DONE (other +QIND lines are signal noise)
_REBOOT_RECONNECT_S = 0.1  # the modem announced it is back: reconnect without back-off
_REPLUG_POLL_S = 0.2  # while an unplugged device path is missing: how often to look for it


def is_boot_line(urc: Urc) -> bool:
    """Whether ``urc`` is a line a modem prints only after it (re)started."""
    if urc.name == "+QIND":
        return _REBOOT_QIND in urc.line.upper()
    return urc.name in _REBOOT_URCS


_ALARM_SWEEP_S = 2.0  # after a URC ignored during a store alarm


class ModemWorker:
    """Supervises one modem: connect, init, sweep, serve, reconnect with back-off."""

    def __init__(
        self,
        settings: ModemSettings,
        ingest: Ingest,
        sender: Sender,
        *,
        timers: WorkerTimers | None = None,
        on_ready: Callable[[str], None] | None = None,
        on_health: Callable[[], None] | None = None,
        guard: StoreGuard | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.name = settings.name
        self.ingest = ingest
        self.sender = sender
        self.timers = timers or WorkerTimers()
        self.on_ready = on_ready
        self.on_health = on_health  # called when this modem goes up or down
        self.clock = clock
        self.guard = guard or StoreGuard()
        self._serving = False
        self._missed = False
        self._rebooted = False  # the session ended because the modem restarted by itself
        self.reboots = 0
        self._live_commands = -1  # modem.counters["commands"] at the last liveness check
        self._live_at = 0.0
        self.balance = BalanceKeeper(
            ingest.store.balances, self.timers.balance, self.name, clock=clock
        )
        self.events: queue.Queue[Any] = queue.Queue()
        self.stopping = threading.Event()
        self.healthy = False
        self.heartbeat = time.monotonic()
        self.sessions = 0
        self.modem: Modem | None = None
        self.thread = threading.Thread(
            target=self._supervise, name=f"worker-{self.name}", daemon=True
        )

    # -- control from the daemon ---------------------------------------------------------
    def start(self) -> None:
        """Start the supervisor thread."""
        self.thread.start()

    def wake(self) -> None:
        """Tell the worker that the outbox may have something due (or a balance request)."""
        self.balance.poke()
        self.events.put(_WAKE)

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the worker to stop after the command in flight, and wait for it."""
        self.stopping.set()
        self.events.put(_WAKE)
        self.thread.join(timeout)

    # -- supervisor ----------------------------------------------------------------------
    def _supervise(self) -> None:
        backoff = self.timers.backoff_initial
        while not self.stopping.is_set():
            self.heartbeat = time.monotonic()
            started = time.monotonic()
            sessions = self.sessions
            error = "stopped"
            try:
                self._session()
            except PinError as exc:
                error = f"PIN refused: {exc}"
                log.error("modem_pin_refused", modem=self.name, error=str(exc))
                backoff = self.timers.backoff_max  # never retry a PIN quickly: it locks the SIM
            except ModemError as exc:
                error = str(exc)
                log.warning("modem_session_ended", modem=self.name, error=error)
            except Exception as exc:
                error = f"worker crashed: {exc!r}"
                log.exception("worker_crashed", modem=self.name)
            finally:
                was_healthy = self.healthy
                self.healthy = self._serving = False
                self._close()
                self._release_keys()
                if was_healthy:
                    self._report(healthy=False, error=error)
            if self.stopping.is_set():
                break
            if self.sessions > sessions and time.monotonic() - started > 5:
                backoff = self.timers.backoff_initial  # it worked for a while: start over
            delay = backoff * random.uniform(0.8, 1.2)
            if self._rebooted:
                self._rebooted = False
                delay = _REBOOT_RECONNECT_S  # it is back already: every second counts
                backoff = self.timers.backoff_initial
            log.info("modem_reconnect_scheduled", modem=self.name, delay_s=round(delay, 2))
            self._wait_reconnect(delay)
            backoff = min(backoff * 2, self.timers.backoff_max)

    def _wait_reconnect(self, delay: float) -> None:
        """Wait ``delay`` before reconnecting; a device path that is missing now (unplugged)
        is watched (a stat every 0.2 s, no AT traffic) and its return ends the wait at once."""
        url = self.settings.url
        if not url.startswith("/") or os.path.exists(url):
            self.stopping.wait(delay)
            return
        deadline = time.monotonic() + delay
        while not self.stopping.wait(min(_REPLUG_POLL_S, max(0.0, deadline - time.monotonic()))):
            if os.path.exists(url):
                log.info("modem_replugged", modem=self.name)
                return
            if time.monotonic() >= deadline:
                return

    def _close(self) -> None:
        if self.modem is not None:
            self.modem.close()
            self.modem = None

    def _on_urc(self, urc: Urc) -> None:
        """Reader thread: queue the URC; a reboot while serving ends the session at once."""
        self.events.put(urc)
        modem = self.modem
        if is_boot_line(urc) and self._serving and modem is not None:
            self._serving = False
            self._rebooted = True
            self.reboots += 1
            log.warning("modem_rebooted", modem=self.name, urc=urc.name)
            modem.close()  # wakes a waiting exchange with PortClosed; the worker reconnects
            self.events.put(_WAKE)  # and an idle worker (a closing port calls no on_lost)

    def _session(self) -> None:
        # A lost port wakes the worker at once, idle or not, so the reconnect starts now.
        modem = Modem(self.settings, on_urc=self._on_urc, on_lost=lambda _r: self.wake())
        self.modem = modem
        self._drain_events()
        modem.open()
        modem.initialise()
        details = asdict(modem.status())  # once per session: identity, SIM, network, signal
        self.sessions += 1
        self.healthy = True
        self._serving = True
        self._report(healthy=True, details=details)
        next_sweep = time.monotonic() + self.timers.sweep_interval
        try:
            self._probe_and_sweep(modem)  # what arrived while we were away comes first
        except StoreError as exc:
            next_sweep = time.monotonic() + self.guard.failed(self.name, exc)
        log.info("modem_ready", modem=self.name, session=self.sessions)
        if self.on_ready is not None:
            self.on_ready(self.name)
        self._serve(modem, next_sweep)

    def _release_keys(self) -> None:
        """The session ended (or the worker stops): release the deleted copies' keys now."""
        try:
            self.ingest.release_pending(self.name)
        except StoreError as exc:  # they stay pending; the next sweep finds the slots empty
            log.warning("keys_not_released", modem=self.name, error=str(exc))

    def _report(
        self, *, healthy: bool, details: dict[str, Any] | None = None, error: str | None = None
    ) -> None:
        """Record this modem's state for `smsd modem status`, and tell the daemon."""
        try:
            self.ingest.store.modems.record_modem_status(
                self.name, self.settings.url, healthy=healthy, now=self.clock(),
                session=self.sessions, details=details, error=error,
            )  # fmt: skip
        except StoreError as exc:
            log.warning("modem_status_not_recorded", modem=self.name, error=str(exc))
        if self.on_health is not None:
            self.on_health()

    def _drain_events(self) -> None:
        while True:
            try:
                self.events.get_nowait()
            except queue.Empty:
                return

    def _serve(self, modem: Modem, next_sweep: float) -> None:
        while not self.stopping.is_set():
            self.heartbeat = time.monotonic()
            if modem.lost.is_set():
                raise PortClosed(f"port lost: {modem.lost_reason}")
            if self._rebooted:  # the reader thread saw boot lines and is closing the port
                raise PortClosed("the modem restarted by itself")
            try:
                next_sweep = self._serve_once(modem, next_sweep)
            except StoreError as exc:
                delay = self.guard.failed(self.name, exc)
                next_sweep = min(next_sweep, time.monotonic() + delay)
                self.stopping.wait(min(delay, 5.0))

    def _serve_once(self, modem: Modem, next_sweep: float) -> float:
        """One round: sweep if due, handle URCs, send one due message or wait for an event."""
        if self._missed:
            self._missed = False  # a URC was ignored during a store alarm: sweep soon
            next_sweep = min(next_sweep, time.monotonic() + _ALARM_SWEEP_S)
        if time.monotonic() >= next_sweep:
            self._probe_and_sweep(modem)
            next_sweep = time.monotonic() + self.timers.sweep_interval
        self._handle_pending_events(modem)
        if self.guard.alarm is None:
            self.ingest.release_due(self.name)  # no burst carried the deleted copies' keys
        if self.stopping.is_set():
            return next_sweep
        if self.sender.send_due(modem, self.name, self.stopping):
            self.guard.succeeded(self.name)
            return next_sweep  # there may be more due: look again before sleeping
        if self.balance.check(modem):
            return next_sweep
        self._check_alive(modem)
        wait = min(
            next_sweep - time.monotonic(),
            self.sender.seconds_until_due(self.name),
            self._live_at + self.timers.liveness_interval - time.monotonic(),
            self.balance.seconds_until_due(),
            self.ingest.pending.seconds_until_due(self.name),
        )
        # Wake-ups come as events (URCs, new outbox rows); the cap only bounds a missed one.
        self._wait_event(modem, max(0.05, min(wait, 30.0)))
        return next_sweep

    def _check_alive(self, modem: Modem) -> None:
        """At most one AT+CNMI? per idle ``liveness_interval``: a modem that answers other
        commands is alive, so any exchange since the last check postpones the next one."""
        now = time.monotonic()
        if modem.counters["commands"] != self._live_commands:
            self._live_commands, self._live_at = modem.counters["commands"], now
            return
        if now < self._live_at + self.timers.liveness_interval:
            return
        try:
            lost = modem.check_settings()
        except ModemTimeout as exc:
            raise ModemTimeout(f"modem {self.name} did not answer the liveness check") from exc
        self._live_commands, self._live_at = modem.counters["commands"], time.monotonic()
        if lost:
            self._rebooted = True
            self.reboots += 1
            log.warning("modem_settings_lost", modem=self.name, lost=",".join(lost))
            raise ModemError(f"modem {self.name} forgot its settings ({', '.join(lost)})")

    def _wait_event(self, modem: Modem, timeout: float) -> None:
        try:
            item = self.events.get(timeout=timeout)
        except queue.Empty:
            return
        self._handle(modem, [item, *self._pending()])

    def _handle_pending_events(self, modem: Modem) -> None:
        items = self._pending()
        if items:
            self._handle(modem, items)

    def _pending(self) -> list[Any]:
        """Everything queued now: URCs that arrived together are taken as one batch."""
        items = []
        while True:
            try:
                items.append(self.events.get_nowait())
            except queue.Empty:
                return items

    def _handle(self, modem: Modem, items: list[Any]) -> None:
        urcs = [item for item in items if isinstance(item, Urc)]
        for urc in urcs:
            if is_boot_line(urc):
                # Seen while initialising (the reader thread ends a serving session itself).
                log.info("modem_boot_noticed", modem=self.name, urc=urc.name)
        urcs = [urc for urc in urcs if not is_boot_line(urc)]
        if not urcs:
            return
        if self.guard.alarm is not None:
            self._missed = True  # the store refuses writes: leave it on the SIM, sweep later
            return
        self.ingest.handle_urcs(modem, self.name, urcs)

    def _probe_and_sweep(self, modem: Modem) -> None:
        try:
            taken = self.ingest.sweep(modem, self.name)
        except ModemTimeout as exc:
            raise ModemTimeout(f"modem {self.name} did not answer the sweep: hung") from exc
        except AtError as exc:
            log.warning("sweep_failed", modem=self.name, error=str(exc))
            return
        if taken:
            self.guard.succeeded(self.name)
