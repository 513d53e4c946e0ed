"""The port owner: one reader thread, one command lock, URCs to a callback.

The reader thread (:class:`~modem.reader.PortReader`) feeds the :class:`~modem.at.AtParser`:
URCs go to ``on_urc``, garbage is counted, and replies go to a queue tagged with the
generation of the command they belong to. ``command()`` and the whole ``send_pdu()`` exchange
run under one lock with a monotonic deadline. A command that timed out leaves the link
"dirty": its reply may still come, so the next exchange first resynchronises (an ``AT`` probe
and a quiet period) instead of taking that late ``OK`` as its own.

A port error ends the reader loop, sets ``lost`` and ``lost_reason`` and logs ``modem_lost``;
waiting commands raise :class:`~modem.errors.PortClosed`. The daemon reconnects.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace

import serial
import structlog

from modem import operations
from modem.at import Final, Info, Prompt, Urc
from modem.errors import AtError, ModemTimeout, PortClosed
from modem.guards import PduLike, check_command, checked_pdu, raise_for, redact
from modem.identity import gather_identity
from modem.reader import PortReader
from modem.reports import ReportRouting
from modem.settings import ModemSettings
from modem.status import ModemStatus, StoredMessage, gather_status, parse_cmgs, reply_fields
from modem.transport import open_port, write_all

__all__ = ["Modem", "ModemSettings", "ModemStatus", "PduLike", "ReportRouting", "StoredMessage"]

log = structlog.get_logger()

_CTRL_Z, _ESC = b"\x1a", b"\x1b"


class Modem:
    """Owns one serial port: reader thread, command lock, URC callback, counters."""

    SIM_READY_TIMEOUT = 30.0
    SIM_RETRY_INTERVAL = 0.5
    RESYNC_QUIET = 0.2
    RESYNC_RETRY = 0.5
    BOOT_TIMEOUT = 15.0
    PROBE_TIMEOUT = 2.0
    READ_TIMEOUT = 0.25  # bounds close() on ports without cancel_read (socket://, rfc2217://)
    # Ports with cancel_read (real ttys, ptys, loop://) can block far longer: close() wakes the
    # reader at once, and an idle daemon then wakes 12 times a minute instead of 240.
    IDLE_READ_TIMEOUT = 5.0

    def __init__(
        self,
        settings: ModemSettings,
        on_urc: Callable[[Urc], None] | None = None,
        on_lost: Callable[[str], None] | None = None,
    ):
        self.settings = settings
        # THE command lock: one exchange at a time. Re-entrant so that :meth:`memory` can hold
        # it around several exchanges (select SR, read, delete, restore) of the same thread.
        self._lock = threading.RLock()
        self._port: serial.SerialBase | None = None
        self._dirty = False
        self._log = log.bind(modem=settings.name)
        self.counters: dict[str, int] = {
            "commands": 0, "urcs": 0, "garbage": 0, "timeouts": 0, "stale": 0, "empty_reads": 0,
        }  # fmt: skip
        self._user_urc = on_urc
        # +CUSD lines, for modem.ussd.ask (which brings the codec; the driver does not load it)
        self.ussd_answers: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._reader = PortReader(settings.name, self.counters, self._urc, on_lost)
        self.report_routing: ReportRouting | None = None  # set by initialise()
        self.lost = self._reader.lost  # set when the reader ended; see lost_reason

    @property
    def lost_reason(self) -> str | None:
        """Why the reader ended ("closed" after :meth:`close`), None while it runs."""
        return self._reader.lost_reason

    def _urc(self, urc: Urc) -> None:
        """Reader thread: +CUSD answers wait in :attr:`ussd_answers`; all go to on_urc."""
        if urc.name == "+CUSD":
            self.ussd_answers.put(urc.line)
        if self._user_urc is not None:
            self._user_urc(urc)

    # -- lifecycle ---------------------------------------------------------------------------

    def open(self) -> None:
        """Open the port, start the reader and cancel any half-finished PDU input."""
        if self._port is not None:
            raise RuntimeError("modem already open")
        s = self.settings
        port = open_port(s.url, baudrate=s.baudrate, rtscts=s.rtscts, timeout=self.READ_TIMEOUT)
        if hasattr(port, "cancel_read"):
            port.timeout = self.IDLE_READ_TIMEOUT
        self._port = port
        self._reader.start(port)
        # A process that died between AT+CMGS and Ctrl-Z leaves the modem reading PDU input:
        # ESC cancels it, CR ends any half-typed line. Whatever they provoke arrives later, so
        # the first exchange resynchronises first.
        try:
            with self._lock:
                write_all(port, _ESC + b"\r")
                self._dirty = True
        except PortClosed:
            self.close()
            raise
        self._log.info("modem_opened", url=s.url)

    def close(self) -> None:
        """Stop the reader and close the port; safe to call twice."""
        port = self._port
        self._reader.stop(port)
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError):
                self._log.debug("port_close_failed")
        self._port = None

    # -- exchanges ---------------------------------------------------------------------------

    def command(self, cmd: str, timeout: float | None = None) -> list[str]:
        """Run ``cmd`` and return its Info lines; raise AtError/ModemTimeout/PortClosed."""
        check_command(cmd)
        budget = self.settings.command_timeout if timeout is None else timeout
        deadline = time.monotonic() + budget
        with self._exclusive(deadline):
            return self._exchange(cmd, deadline)

    def send_pdu(self, pdu: PduLike, timeout: float | None = None) -> int:
        """AT+CMGS=<len>, wait ``> ``, write PDU + Ctrl-Z, return TP-MR from ``+CMGS: <mr>``."""
        hex_pdu, length = checked_pdu(pdu)
        cmd = f"AT+CMGS={length}"
        send_budget = self.settings.send_timeout if timeout is None else timeout
        with self._exclusive(time.monotonic() + send_budget):
            prompt_deadline = time.monotonic() + self.settings.prompt_timeout
            self._prepare(prompt_deadline)
            generation = self._begin(cmd)
            self._await_prompt(cmd, generation, prompt_deadline)
            self._write(hex_pdu.encode("ascii") + _CTRL_Z)
            lines = self._finish(cmd, generation, time.monotonic() + send_budget)
        if (reference := parse_cmgs(lines)) is None:
            raise AtError(cmd, "no +CMGS: <mr> in the reply")
        return reference

    def probe(self, timeout: float | None = None) -> bool:
        """True if the modem answers ``AT`` in time (or a command is in flight: it has its own
        deadline); False on timeout, error or a lost port. For the daemon's hang detection."""
        if not self._lock.acquire(blocking=False):
            return True
        try:
            budget = self.PROBE_TIMEOUT if timeout is None else timeout
            self._exchange("AT", time.monotonic() + budget)
            return True
        except (ModemTimeout, AtError, PortClosed):
            return False
        finally:
            self._lock.release()

    @contextmanager
    def _exclusive(self, deadline: float) -> Iterator[None]:
        if self._reader.in_reader_thread():
            # Replies are read by this very thread: waiting here would deadlock until timeout.
            raise RuntimeError("on_urc must not call the modem: queue the URC and return")
        if not self._lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise ModemTimeout("modem busy: another exchange held the port until the deadline")
        try:
            yield
        finally:
            self._lock.release()

    def _exchange(self, cmd: str, deadline: float) -> list[str]:
        self._prepare(deadline)
        generation = self._begin(cmd)
        return self._finish(cmd, generation, deadline)

    def _prepare(self, deadline: float) -> None:
        """Refuse a dead port; resync after a timeout; drop replies nobody waits for."""
        if self._port is None or self.lost.is_set():
            raise PortClosed(self.lost_reason or "modem not open")
        if self._dirty:
            self._resync(deadline)
        self._drain()

    def _resync(self, deadline: float) -> None:
        """Let a late reply land before the next command: AT, its final, then a quiet spell."""
        self._exchange_probe(deadline)
        while (quiet := self._reader.last_rx + self.RESYNC_QUIET - time.monotonic()) > 0:
            if self.lost.is_set():
                raise PortClosed(self.lost_reason or "port lost")
            if time.monotonic() >= deadline:
                raise ModemTimeout("modem kept talking while resynchronising")
            self.lost.wait(min(quiet, max(0.0, deadline - time.monotonic())))
        self._dirty = False
        self._log.debug("modem_resynced")

    def _exchange_probe(self, deadline: float) -> None:
        """``AT`` until any final arrives: a booting modem drops commands before ``RDY``."""
        while True:
            self._drain()
            generation = self._begin("AT")
            attempt_end = min(deadline, time.monotonic() + self.RESYNC_RETRY)
            try:
                while not isinstance(self._wait("AT", generation, attempt_end, quiet=True), Final):
                    pass  # Info of the command that timed out; its final or ours ends this
                return
            except ModemTimeout:
                if time.monotonic() >= deadline:
                    self._log.warning("modem_unresponsive")
                    raise

    def _drain(self) -> None:
        while True:
            try:
                self._reader.replies.get_nowait()
            except queue.Empty:
                return
            self.counters["stale"] += 1

    def _begin(self, cmd: str) -> int:
        generation = self._reader.begin(cmd)
        try:
            self._write(cmd.encode("ascii") + b"\r")
        except PortClosed:
            self._abandon(generation)
            raise
        self.counters["commands"] += 1
        return generation

    def _finish(self, cmd: str, generation: int, deadline: float) -> list[str]:
        lines: list[str] = []
        while True:
            event = self._wait(cmd, generation, deadline)
            if isinstance(event, Info):
                lines.append(event.line)
            elif isinstance(event, Final):
                raise_for(cmd, event)
                return lines

    def _await_prompt(self, cmd: str, generation: int, deadline: float) -> None:
        while True:
            try:
                event = self._wait(cmd, generation, deadline)
            except ModemTimeout:
                self._write(_ESC)  # leave PDU input, or the modem eats our next command
                raise ModemTimeout(f"{cmd}: no '> ' prompt in time; sent ESC") from None
            if isinstance(event, Prompt):
                return
            if isinstance(event, Final):
                raise_for(cmd, event)
                raise AtError(cmd, "final result before the '> ' prompt")

    def _wait(
        self, cmd: str, generation: int, deadline: float, *, quiet: bool = False
    ) -> Info | Final | Prompt:
        """The next reply event of ``generation``; stale ones are dropped."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._abandon(generation)
                if not quiet:  # resync probes time out routinely while a modem boots
                    self.counters["timeouts"] += 1
                    self._log.warning("command_timed_out", command=redact(cmd).split("=")[0])
                raise ModemTimeout(f"{redact(cmd)}: no final result in time")
            try:
                tag, event = self._reader.replies.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                tag, event = -1, None
            if isinstance(event, Info | Final | Prompt):
                if tag == generation:
                    return event
                self.counters["stale"] += 1
            if self.lost.is_set() and self._reader.replies.empty():
                raise PortClosed(self.lost_reason or "port lost")

    def _abandon(self, generation: int) -> None:
        """Give up on ``generation``: its late reply must not reach anyone."""
        self._reader.abandon(generation)
        self._dirty = True

    def _write(self, data: bytes) -> None:
        port = self._port
        if port is None:
            raise PortClosed("modem not open")
        write_all(port, data)

    def wait_ready(self, timeout: float | None = None) -> None:
        """Send ``AT`` until the modem answers (it drops input while booting), then let its
        boot noise settle; ModemTimeout after ``timeout`` (default ``BOOT_TIMEOUT``)."""
        deadline = time.monotonic() + (self.BOOT_TIMEOUT if timeout is None else timeout)
        with self._exclusive(deadline):
            if self._port is None or self.lost.is_set():
                raise PortClosed(self.lost_reason or "modem not open")
            self._resync(deadline)

    # -- operations over command() (modem.operations, modem.status) ---------------------------

    def initialise(self) -> ReportRouting:
        """Echo off, verbose errors, SIM PIN (never a refused one), PDU mode, storage, CNMI;
        returns (and keeps in :attr:`report_routing`) how status reports were routed."""
        self.report_routing = operations.initialise(
            self.command,
            self.settings,
            wait_ready=self.wait_ready,
            pause=self.lost.wait,
            ready_timeout=self.SIM_READY_TIMEOUT,
            retry_interval=self.SIM_RETRY_INTERVAL,
        )
        return self.report_routing

    def status(self) -> ModemStatus:
        """Identity, SIM (ICCID, IMSI, own number), registration, operator, signal (dBm),
        storage use and how status reports are routed."""
        identity = gather_identity(self.command)
        routing = self.report_routing
        return replace(
            gather_status(self.command),
            iccid=identity.iccid,
            imsi=identity.imsi,
            own_number=identity.own_number,
            report_routing=routing.describe() if routing is not None else None,
        )

    @contextmanager
    def memory(self, memory: str) -> Iterator[None]:
        """Hold the command lock with ``memory`` selected for reading and deleting (AT+CPMS),
        restoring the configured storage afterwards (a status-report memory such as ``SR``)."""
        if memory == self.settings.storage:
            yield
            return
        if not memory.isalpha() or len(memory) != 2:
            raise ValueError(f"memory must be two letters like SR: {memory!r}")
        with self._exclusive(time.monotonic() + self.settings.command_timeout):
            self.command(f'AT+CPMS="{memory.upper()}"')
            try:
                yield
            finally:
                self.command(f'AT+CPMS="{self.settings.storage}"')

    def check_settings(self) -> list[str]:
        """The idle liveness check, ONE command (``AT+CNMI?``): what a modem that restarted by
        itself forgot (echo back on, CNMI not what :meth:`initialise` set); [] when all is well.
        Raises ModemTimeout/PortClosed when the modem does not answer at all."""
        echoes = self._reader.echoes
        fields = reply_fields(self._quiet("AT+CNMI?"), "+CNMI")
        lost = ["echo"] if self._reader.echoes > echoes else []
        routing = self.report_routing
        if routing is not None and fields is not None:
            want = routing.cnmi.partition("=")[2].split(",")
            if [f.strip() for f in fields[: len(want)]] != want:
                lost.append("cnmi")
        return lost

    def _quiet(self, cmd: str) -> list[str]:
        try:
            return self.command(cmd)
        except AtError:
            return []

    def list_stored(self) -> list[StoredMessage]:
        """Every message in the selected storage (AT+CMGL=4, PDU mode)."""
        return operations.list_stored(self.command)

    def read_stored(self, index: int, memory: str | None = None) -> StoredMessage | None:
        """The message at ``index`` (AT+CMGR), or None if the slot is empty.

        A URC announced something there, so an empty answer means it was read from the wrong
        memory or taken already: counted in ``counters["empty_reads"]``, logged once."""
        message = operations.read_stored(self.command, index)
        if message is None:
            self.counters["empty_reads"] += 1
            if self.counters["empty_reads"] == 1:
                self._log.warning("stored_read_empty", index=index, memory=memory)
        return message

    def delete_stored(self, index: int) -> None:
        """Delete one stored message (AT+CMGD=<index>); there is deliberately no bulk delete."""
        operations.delete_stored(self.command, index)

    def ack(self) -> None:
        """Acknowledge a directly delivered +CMT/+CDS (AT+CNMA), as phase 2+ modems require."""
        operations.ack(self.command)
