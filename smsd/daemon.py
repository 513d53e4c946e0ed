"""The daemon: wiring, signals, the supervisor loop and systemd integration.

Threads: one reader per modem (inside :class:`modem.modem.Modem`), one worker per modem
(:class:`smsd.worker.ModemWorker`), and the main thread, which handles signals, notices CLI
writes (``PRAGMA data_version`` once a second: no disk I/O, no AT traffic), expires
incomplete multipart messages, and talks to systemd (READY, STATUS, WATCHDOG).

SIGTERM/SIGINT: finish the command in flight, stop cleanly, exit 0. SIGHUP: reload the
configuration's messaging rules without dropping anything.

A store that refuses writes (locked, disk full) raises the shared alarm of
:class:`smsd.diskguard.StoreGuard`: shown in STATUS, messages stay on the SIM until it clears;
committed messages whose routing failed are routed from here once the store is back.
Outgoing messages go to whichever healthy modem claims them first (one shared queue), so a
dead modem's share is sent by the others.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import FrameType

import structlog

from modem.settings import ModemSettings
from smsd.diskguard import PageLimitKnob, StoreGuard
from smsd.ingest import Ingest
from smsd.names import ModemNames
from smsd.notify import Notifier
from smsd.pipeline import Pipeline
from smsd.scheduler import Scheduler
from smsd.sender import Sender
from smsd.settings import BroadcastPolicy, RetryPolicy, Rules, WorkerTimers
from smsd.worker import ModemWorker
from store.errors import StoreError
from store.store import Store

__all__ = ["Daemon", "DaemonOptions"]

log = structlog.get_logger()
_HOST_ALIVE = timedelta(seconds=20)  # another host's heartbeat (every 5 s) counts this long
_WEDGED_AFTER_S = 240.0  # longer than the slowest legitimate AT exchange (send_timeout 90 s)


@dataclass
class DaemonOptions:
    """Everything the daemon needs, already validated by the caller (CLI or tests)."""

    db_path: str
    modems: list[ModemSettings]
    rules_loader: Callable[[], Rules]  # called at start and on SIGHUP
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    timers: WorkerTimers = field(default_factory=WorkerTimers)
    partial_timeout: timedelta = timedelta(hours=1)
    default_region: str = "GB"
    host: str | None = None  # this gateway host's name in a shared store
    claim_timeout: timedelta = timedelta(minutes=10)  # then a dead host's claims are requeued
    broadcast: BroadcastPolicy = field(default_factory=BroadcastPolicy)
    broadcast_loader: Callable[[], BroadcastPolicy] | None = None  # on SIGHUP, when given


class Daemon:
    """Runs workers for every modem until SIGTERM."""

    def __init__(self, options: DaemonOptions, notifier: Notifier | None = None) -> None:
        self.options = options
        self.notifier = notifier or Notifier.from_env()
        self.stop_event = threading.Event()
        self.reload_requested = threading.Event()
        self.store = Store.open(options.db_path, host=options.host)
        self._remote_healthy: set[str] = set()  # other hosts' modems up (shared store only)
        self.pipeline = Pipeline(
            self.store,
            options.rules_loader(),
            default_region=options.default_region,
            partial_timeout=options.partial_timeout,
            listener=self,
        )
        self.sender = Sender(self.store.outbox, options.policy, healthy=self._healthy_modems)
        self.ingest = Ingest(self.store, self.pipeline, release_delay=options.timers.release_delay)
        self.guard = StoreGuard()
        self.scheduler = Scheduler(self.store, options.broadcast)
        self.page_limit = PageLimitKnob.from_env(self.store)
        self.workers = [
            ModemWorker(
                s,
                self.ingest,
                self.sender,
                timers=options.timers,
                on_ready=self._on_ready,
                on_health=self.wake_all,  # a preferred modem went up or down: re-plan sends
                guard=self.guard,
            )
            for s in options.modems
        ]
        self.names = ModemNames(self.store, options.claim_timeout)
        # The heartbeat (and the reclaim check) at least three times per claim timeout, at
        # most every 5 s: a live host never looks dead to the others between two heartbeats.
        self._health_every = max(1.0, min(5.0, options.claim_timeout.total_seconds() / 3))
        self.refused: list[ModemWorker] = []  # their names are held by another live host
        self._ready_sent = False
        self._ready_lock = threading.Lock()
        self._alarm_shown = False

    # -- callbacks -------------------------------------------------------------------------
    def replies_queued(self) -> None:
        """The pipeline queued replies: wake every worker (`smsd.pipeline.QueueListener`)."""
        self.wake_all()

    def _on_ready(self, name: str) -> None:
        with self._ready_lock:
            if not self._ready_sent:
                self._ready_sent = True
                self.notifier.ready()
                log.info("daemon_ready", modem=name)

    def _healthy_modems(self) -> set[str]:
        return {w.name for w in self.workers if w.healthy} | self._remote_healthy

    def wake_all(self) -> None:
        """Wake every worker: the outbox may have something due."""
        for worker in self.workers:
            worker.wake()

    # -- signals ---------------------------------------------------------------------------
    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            self.reload_requested.set()
        else:
            self.stop_event.set()

    def install_signal_handlers(self) -> None:
        """SIGTERM/SIGINT stop, SIGHUP reloads (main thread only)."""
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._on_signal)

    # -- main loop -------------------------------------------------------------------------
    def recover(self) -> None:
        """Finish what a crashed predecessor left: claimed sends and unrouted messages."""
        requeued = self.store.outbox.requeue_stale_claims()
        reprocessed = self.pipeline.route_left()
        log.info("daemon_recovered", requeued=requeued, reprocessed=len(reprocessed))

    def run(self) -> int:
        """Run until stopped; return the process exit code."""
        self.page_limit.poll()
        self.recover()
        self.workers, self.refused = self.names.split(self.workers)
        for worker in self.workers:
            worker.start()
        log.info("daemon_started", modems=len(self.workers))
        version = self.store.data_version()
        last_partials = last_status = last_reclaim = 0.0
        status = ""
        interval = self.notifier.watchdog_interval()
        while not self.stop_event.wait(1.0 if interval is None else min(1.0, interval / 2)):
            if self.reload_requested.is_set():
                self.reload()
            self.page_limit.poll()
            previous, version = version, self._notice_writes(version)
            self._run_schedules(changed=version != previous)
            self._route_leftovers()
            now = time.monotonic()
            if now - last_partials >= 60:
                last_partials = now
                self._expire_partials()
                self._fold_stats()
            if now - last_reclaim >= self._health_every:
                last_reclaim = now
                self._reclaim_expired()
                self._share_health()
            if now - last_status >= 5 or self._alarm_changed():
                last_status = now
                status = self._report_status(status)
            self._watchdog()
        return self.shutdown()

    def _notice_writes(self, version: int) -> int:
        try:
            current = self.store.data_version()
        except StoreError as exc:
            log.warning("store_unavailable", error=str(exc))
            return version
        if current != version:
            self.wake_all()
        return current

    def _run_schedules(self, *, changed: bool) -> None:
        """Queue scheduled broadcasts that are due (in the store's transactions)."""
        try:
            queued = self.scheduler.tick(datetime.now(UTC), changed=changed)
        except StoreError as exc:
            log.warning("schedules_not_run", error=str(exc))
            return
        if queued:
            self.wake_all()

    def _alarm_changed(self) -> bool:
        alarm = self.guard.alarm is not None
        changed = alarm != self._alarm_shown
        self._alarm_shown = alarm
        return changed

    def _route_leftovers(self) -> None:
        """Route messages committed while the store refused the routing transaction."""
        if not self.pipeline.unrouted:
            return
        try:
            done = self.pipeline.route_left()
        except StoreError as exc:
            log.warning("reroute_failed", error=str(exc))
            return
        log.info("messages_rerouted", count=len(done))

    def _share_health(self) -> None:
        """On a shared store: say this host is alive, learn which modems the others have up."""
        if self.store.dialect == "sqlite":
            return  # one host per file: nothing to share
        try:
            self.store.modems.heartbeat(datetime.now(UTC))
            remote = self.store.modems.remote_healthy(datetime.now(UTC), _HOST_ALIVE)
        except StoreError as exc:
            log.warning("health_not_shared", error=str(exc))
            return
        if remote != self._remote_healthy:
            self._remote_healthy = remote
            log.info("remote_modems_changed", up=sorted(remote))
            self.wake_all()
        if self.refused:  # a name held by another host: free once that host is dead
            runnable, _ = self.names.split(self.workers + self.refused)
            started = [w for w in self.refused if w in runnable]
            for worker in started:
                worker.start()
            self.refused = [w for w in self.refused if w not in started]
            self.workers = [*self.workers, *started]

    def _fold_stats(self) -> None:
        """Keep the stats roll-ups near the newest request, so `smsd stats` folds little."""
        try:
            folded = self.store.rollups.fold(may_rebuild=False)
        except StoreError as exc:
            log.warning("stats_not_folded", error=str(exc))
            return
        if folded is None:  # far behind (an upgraded or copied database): too long for here
            log.warning("stats_rollups_behind", hint="run smsd db migrate once")

    def _reclaim_expired(self) -> None:
        """Queue again what a dead host (or this one, stuck) claimed too long ago."""
        try:
            count = self.store.outbox.reclaim_expired(datetime.now(UTC), self.options.claim_timeout)
        except StoreError as exc:
            log.warning("claims_not_reclaimed", error=str(exc))
            return
        if count:
            log.warning("claims_reclaimed", count=count)
            self.wake_all()

    def _expire_partials(self) -> None:
        try:
            self.pipeline.expire_partials()
        except StoreError as exc:
            log.warning("partials_not_expired", error=str(exc))

    def _report_status(self, previous: str) -> str:
        up = sum(1 for w in self.workers if w.healthy)
        try:
            queued = self.store.outbox.queue_length()
        except StoreError:
            queued = -1
        status = f"modems up {up}/{len(self.workers)}, queue {queued}{self.guard.status()}"
        if self.refused:
            status += f", name held elsewhere: {', '.join(w.name for w in self.refused)}"
        if status != previous:
            self.notifier.status(status)
        return status

    def _watchdog(self) -> None:
        if self.notifier.watchdog_interval() is None:
            return  # WatchdogSec= not set: nobody listens for pings
        now = time.monotonic()
        wedged = [w.name for w in self.workers if now - w.heartbeat > _WEDGED_AFTER_S]
        if wedged:
            log.error("worker_wedged", modems=",".join(wedged))
            return  # no ping: systemd restarts us
        self.notifier.watchdog()

    def reload(self) -> None:
        """Re-read the configuration and apply what a reload may change (SIGHUP)."""
        self.reload_requested.clear()
        self.notifier.reloading()
        try:
            self.pipeline.reload(self.options.rules_loader())
            if self.options.broadcast_loader is not None:
                self.scheduler.policy = self.options.broadcast_loader()
            log.info("config_reloaded")
        except Exception as exc:
            log.error("config_reload_failed", error=str(exc))
        self.notifier.ready()

    def shutdown(self) -> int:
        """Stop workers after their command in flight, close the store; return 0."""
        self.notifier.stopping()
        log.info("daemon_stopping")
        for worker in self.workers:
            worker.stopping.set()
            worker.wake()
        for worker in self.workers:
            worker.stop()
        self.store.close()
        log.info("daemon_stopped")
        return 0
