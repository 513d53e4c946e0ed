"""The reading half of a port: one thread that reads, parses and routes what the modem says.

:class:`PortReader` feeds the :class:`~modem.at.AtParser` and dispatches its events: URCs go
to ``on_urc`` (errors there are logged, never fatal), garbage is counted, and replies go to
:attr:`PortReader.replies` tagged with the generation of the command they belong to (see
:meth:`PortReader.begin`). A port error ends the loop: ``lost`` is set with ``lost_reason``,
``on_lost`` is called once and a waiting command is woken. The writing half, the command
lock and the deadlines are :class:`~modem.modem.Modem`'s.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable

import serial
import structlog

from modem.at import AtParser, Event, Garbage, NeedData, Urc
from modem.errors import PortClosed
from modem.transport import read_some

__all__ = ["PortReader"]

log = structlog.get_logger()


class PortReader:
    """Owns the reader thread and the parser of one port; replies wait in :attr:`replies`."""

    def __init__(
        self,
        name: str,
        counters: dict[str, int],
        on_urc: Callable[[Urc], None] | None,
        on_lost: Callable[[str], None] | None,
    ) -> None:
        self.name = name
        self.counters = counters  # the Modem's: "urcs" and "garbage" are counted here
        self._on_urc = on_urc
        self._on_lost = on_lost  # called once from the reader thread when the port goes away
        self._log = log.bind(modem=name)
        self._parser = AtParser()
        self._parser_lock = threading.Lock()  # parser state; held briefly by both threads
        self.replies: queue.SimpleQueue[tuple[int, Event | None]] = queue.SimpleQueue()
        self.generation = 0
        self.last_rx = 0.0
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()
        self.lost = threading.Event()
        self.lost_reason: str | None = None

    def start(self, port: serial.SerialBase) -> None:
        """A fresh parser and a new reader thread on ``port``."""
        self._parser = AtParser()
        self._closing.clear()
        self.lost.clear()
        self.lost_reason = None
        self._thread = threading.Thread(
            target=self._read_loop, args=(port,), name=f"modem-reader-{self.name}", daemon=True
        )
        self._thread.start()

    def stop(self, port: serial.SerialBase | None) -> None:
        """End the loop (cancelling a blocked read) and wait for the thread."""
        self._closing.set()
        if port is not None and hasattr(port, "cancel_read"):
            # Best effort: if cancelling fails, the short read timeout ends the loop anyway.
            with contextlib.suppress(Exception):
                port.cancel_read()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5.0)
        self._thread = None

    @property
    def echoes(self) -> int:
        """How many commands the modem echoed back since the port was opened."""
        with self._parser_lock:
            return self._parser.echoes

    def in_reader_thread(self) -> bool:
        """True when called from the reader thread itself (an ``on_urc`` callback)."""
        return threading.current_thread() is self._thread

    def begin(self, cmd: str) -> int:
        """Tell the parser ``cmd`` is pending; its replies will carry the returned generation."""
        with self._parser_lock:
            self.generation += 1
            self._parser.begin(cmd)
            return self.generation

    def abandon(self, generation: int) -> None:
        """Nobody waits for ``generation`` any more: end it in the parser if still current."""
        with self._parser_lock:
            if self.generation == generation:
                self._parser.end()

    def _read_loop(self, port: serial.SerialBase) -> None:
        reason = "closed"
        try:
            while not self._closing.is_set():
                try:
                    data = read_some(port)
                except PortClosed as exc:
                    reason = str(exc)
                    break
                if data:
                    self.last_rx = time.monotonic()
                    self._feed(data)
        except Exception as exc:  # a bug in the parser must still end in "lost", not silence
            reason = f"reader failed: {exc!r}"
            self._log.exception("modem_reader_failed")
        finally:
            self._connection_lost(reason)

    def _connection_lost(self, reason: str) -> None:
        closing = self._closing.is_set()
        self.lost_reason = "closed" if closing else reason
        self.lost.set()
        self.replies.put((-1, None))  # wake a waiting command at once
        if self._on_lost is not None and not closing:
            try:
                self._on_lost(reason)
            except Exception:  # the owner's callback must not hide the loss itself
                self._log.exception("on_lost_failed")
        if closing:
            self._log.info("modem_closed")
        else:
            self._log.error("modem_lost", reason=reason)

    def _feed(self, data: bytes) -> None:
        events: list[Event] = []
        with self._parser_lock:
            self._parser.feed(data)
            generation = self.generation
            while not isinstance(event := self._parser.next_event(), NeedData):
                events.append(event)
        for event in events:
            self._dispatch(generation, event)

    def _dispatch(self, generation: int, event: Event) -> None:
        if isinstance(event, Urc):
            self.counters["urcs"] += 1
            if self._on_urc is None:
                return
            try:
                self._on_urc(event)
            except Exception:  # user code: log it, keep reading (the port is fine)
                self._log.exception("urc_handler_failed", urc=event.name)
        elif isinstance(event, Garbage):
            self.counters["garbage"] += 1
            self._log.warning("garbage_received", reason=event.reason, size=len(event.data))
        else:
            self.replies.put((generation, event))
