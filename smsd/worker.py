"""One worker per modem: keeps a session open, takes messages in, sends messages out.

The worker is the only user of its :class:`modem.modem.Modem`. It reacts to URCs at once
(they arrive on its queue from the modem's reader thread), sends what the outbox has due,
and sweeps the SIM on connect and then on a slow timer (the safety net for +CMTI that
never came). A port error or an unanswered probe ends the session; the worker reconnects
with exponential back-off, re-opens the same path, re-runs the init and sweeps again.

Never-lose order for an incoming message: read it from the modem, commit it to the store,
then delete it from the modem. A crash before the commit leaves it on the SIM (the next
sweep finds it); a crash after the commit is caught by the store's dedupe key.
"""

from __future__ import annotations

import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from modem.at import Urc
from modem.errors import AtError, ModemError, ModemTimeout, PinError, PortClosed
from modem.modem import Modem, ModemSettings
from smsd.ingest import Ingest
from smsd.sender import Sender

__all__ = ["ModemWorker", "WorkerTimers"]

log = structlog.get_logger()
_WAKE = object()
_REBOOT_URCS = frozenset({"RDY", "^BOOT", "SMS Ready", "Call Ready"})


@dataclass(frozen=True)
class WorkerTimers:
    """How often the worker does its slow chores (seconds)."""

    sweep_interval: float = 600.0
    backoff_initial: float = 1.0
    backoff_max: float = 60.0


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
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.name = settings.name
        self.ingest = ingest
        self.sender = sender
        self.timers = timers or WorkerTimers()
        self.on_ready = on_ready
        self.clock = clock
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
        """Tell the worker that the outbox may have something due."""
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
            try:
                self._session()
            except PinError as exc:
                log.error("modem_pin_refused", modem=self.name, error=str(exc))
                backoff = self.timers.backoff_max  # never retry a PIN quickly: it locks the SIM
            except ModemError as exc:
                log.warning("modem_session_ended", modem=self.name, error=str(exc))
            except Exception:
                log.exception("worker_crashed", modem=self.name)
            finally:
                self.healthy = False
                self._close()
            if self.stopping.is_set():
                break
            if time.monotonic() - started > 60:
                backoff = self.timers.backoff_initial  # a long healthy session resets the back-off
            delay = backoff * random.uniform(0.8, 1.2)
            log.info("modem_reconnect_scheduled", modem=self.name, delay_s=round(delay, 2))
            self.stopping.wait(delay)
            backoff = min(backoff * 2, self.timers.backoff_max)

    def _close(self) -> None:
        if self.modem is not None:
            self.modem.close()
            self.modem = None

    def _session(self) -> None:
        modem = Modem(self.settings, on_urc=self.events.put)
        self.modem = modem
        self._drain_events()
        modem.open()
        modem.initialise()
        self.sessions += 1
        self.healthy = True
        self.ingest.sweep(modem, self.name)  # what arrived while we were away comes first
        log.info("modem_ready", modem=self.name, session=self.sessions)
        if self.on_ready is not None:
            self.on_ready(self.name)
        self._serve(modem)

    def _drain_events(self) -> None:
        while True:
            try:
                self.events.get_nowait()
            except queue.Empty:
                return

    def _serve(self, modem: Modem) -> None:
        next_sweep = time.monotonic() + self.timers.sweep_interval
        while not self.stopping.is_set():
            self.heartbeat = time.monotonic()
            if modem.lost.is_set():
                raise PortClosed(f"port lost: {modem.lost_reason}")
            self._handle_pending_events(modem)
            if self.stopping.is_set():
                return
            sent = self.sender.send_due(modem, self.name, self.stopping)
            if time.monotonic() >= next_sweep:
                self._probe_and_sweep(modem)
                next_sweep = time.monotonic() + self.timers.sweep_interval
            if sent:
                continue  # there may be more due: look again before sleeping
            wait = min(next_sweep - time.monotonic(), self.sender.seconds_until_due(self.name))
            self._wait_event(modem, max(0.05, min(wait, 5.0)))

    def _wait_event(self, modem: Modem, timeout: float) -> None:
        try:
            item = self.events.get(timeout=timeout)
        except queue.Empty:
            return
        self._handle(modem, item)

    def _handle_pending_events(self, modem: Modem) -> None:
        while True:
            try:
                item = self.events.get_nowait()
            except queue.Empty:
                return
            self._handle(modem, item)

    def _handle(self, modem: Modem, item: Any) -> None:
        if item is _WAKE or not isinstance(item, Urc):
            return
        if item.name in _REBOOT_URCS:
            # A reboot forgets echo, PDU mode and CNMI: re-initialise and sweep.
            log.warning("modem_rebooted", modem=self.name, urc=item.name)
            modem.initialise()
            self.ingest.sweep(modem, self.name)
            return
        self.ingest.handle_urc(modem, self.name, item)

    def _probe_and_sweep(self, modem: Modem) -> None:
        try:
            self.ingest.sweep(modem, self.name)
        except ModemTimeout as exc:
            raise ModemTimeout(f"modem {self.name} did not answer the sweep: hung") from exc
        except AtError as exc:
            log.warning("sweep_failed", modem=self.name, error=str(exc))
