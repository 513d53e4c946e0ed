"""The simulator's port: a pseudo-terminal served by one thread, plus that thread's timers.

The slave side of the pty is the "device" the daemon opens with pyserial. The master side
is read and written here, non-blocking, so a daemon that is not reading can never block a
caller of :meth:`PtyPort.write` (the bytes wait in a bounded buffer, like a modem's UART).

Everything the thread does (delivering input, firing timers) runs under the caller's lock,
so the simulator's state has exactly one lock and no other thread sees it half-changed.
"""

from __future__ import annotations

import contextlib
import errno
import heapq
import itertools
import os
import select
import threading
import time
import tty
from collections.abc import Callable

import structlog

from modem.sim.link import points_at

__all__ = ["PtyPort", "Timer"]

log = structlog.get_logger(__name__)

OUT_LIMIT = 256 * 1024  # a real UART overflows too: beyond this the oldest bytes are dropped


class Timer:
    """A cancellable call scheduled on the port thread."""

    __slots__ = ("cancelled", "fn", "when")

    def __init__(self, when: float, fn: Callable[[], None]) -> None:
        self.when = when
        self.fn = fn
        self.cancelled = False

    def cancel(self) -> None:
        """Do not run it (a no-op if it already ran)."""
        self.cancelled = True


class PtyPort:
    """Owns the pty file descriptors, the optional ``link`` symlink and the serving thread."""

    def __init__(self, lock: threading.RLock, on_data: Callable[[bytes], None], link: str | None):
        self._lock = lock
        self._on_data = on_data
        self.link = link
        self.device_path = ""
        self._master: int | None = None
        self._slave: int | None = None
        self._generation = 0  # bumped on every close/open: a stale select result is ignored
        self._out = bytearray()
        self._timers: list[tuple[float, int, Timer]] = []
        self._seq = itertools.count()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._stopping = False
        self._thread: threading.Thread | None = None

    # -- pty lifecycle -------------------------------------------------------------------

    def open_pty(self) -> str:
        """Open a new pty (raw, non-blocking master), repoint ``link``; return the device path."""
        master, slave = os.openpty()
        # Raw: CR, LF, Ctrl-Z and ESC must reach the "modem" untouched, and no kernel echo.
        tty.setraw(slave)
        os.set_blocking(master, False)
        with self._lock:
            self._master, self._slave = master, slave
            self._generation += 1
            self._out.clear()
            self.device_path = os.ttyname(slave)
            if self.link:
                _replace_symlink(self.device_path, self.link)
        self._wake()
        return self.device_path

    def close_pty(self) -> None:
        """Close both sides, so a reader of the slave gets EIO; remove ``link`` (unplugged)."""
        with self._lock:
            for fd in (self._master, self._slave):
                if fd is not None:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            self._master = self._slave = None
            self._generation += 1
            self._out.clear()
            if self.link and points_at(self.link, self.device_path):  # never another's link
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.link)
        self._wake()

    @property
    def is_open(self) -> bool:
        """Whether a pty is plugged in."""
        return self._master is not None

    # -- thread --------------------------------------------------------------------------

    def start(self) -> None:
        """Serve the master side in a daemon thread."""
        self._thread = threading.Thread(target=self._loop, name="sim-port", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread, close the pty and the wake-up pipe."""
        self._stopping = True
        self._wake()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self.close_pty()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def write(self, data: bytes) -> None:
        """Queue bytes for the daemon; dropped when no pty is plugged in."""
        with self._lock:
            if self._master is None or not data:
                return
            self._out += data
            if len(self._out) > OUT_LIMIT:
                del self._out[: len(self._out) - OUT_LIMIT]
        self._wake()

    def call_later(self, delay: float, fn: Callable[[], None]) -> Timer:
        """Run ``fn`` on the port thread, under the lock, ``delay`` seconds from now."""
        timer = Timer(time.monotonic() + max(0.0, delay), fn)
        with self._lock:
            heapq.heappush(self._timers, (timer.when, next(self._seq), timer))
        self._wake()
        return timer

    def _wake(self) -> None:
        with contextlib.suppress(OSError):  # a full pipe already means "wake up"
            os.write(self._wake_w, b"x")

    def _loop(self) -> None:
        while not self._stopping:
            with self._lock:
                master, gen = self._master, self._generation
                wants_write = master is not None and bool(self._out)
                timeout = self._timers[0][0] - time.monotonic() if self._timers else None
            rlist = [self._wake_r] + ([master] if master is not None else [])
            wlist = [master] if wants_write and master is not None else []
            try:
                readable, writable, _ = select.select(
                    rlist, wlist, [], None if timeout is None else max(0.0, timeout)
                )
            except (OSError, ValueError):
                continue  # the pty was closed under select(): the next round sees it gone
            if self._wake_r in readable:
                with contextlib.suppress(OSError):
                    os.read(self._wake_r, 4096)
            if master is not None:
                self._io(master, gen, master in readable, master in writable)
            self._run_timers()

    def _io(self, master: int, gen: int, readable: bool, writable: bool) -> None:
        with self._lock:
            if gen != self._generation:
                return  # closed (and maybe reopened on the same fd number) meanwhile
            if writable and self._out:
                try:
                    n = os.write(master, self._out)
                    del self._out[:n]
                except BlockingIOError:
                    pass
                except OSError:
                    self._out.clear()
            if readable:
                try:
                    data = os.read(master, 4096)
                except BlockingIOError:
                    return
                except OSError as exc:
                    if exc.errno != errno.EIO:
                        raise
                    return  # nobody has the slave open: we hold it, so only in a close race
                if data:
                    self._guarded(lambda: self._on_data(data))

    def _run_timers(self) -> None:
        while True:
            with self._lock:
                if not self._timers or self._timers[0][0] > time.monotonic():
                    return
                _, _, timer = heapq.heappop(self._timers)
                if not timer.cancelled:
                    self._guarded(timer.fn)

    @staticmethod
    def _guarded(fn: Callable[[], None]) -> None:
        """A bug in the simulator must not silently stop the port: log it, keep serving."""
        try:
            fn()
        except Exception:
            log.exception("sim_port_callback_failed")


def _replace_symlink(target: str, link: str) -> None:
    """Point ``link`` at ``target`` atomically, like udev repointing /dev/serial/by-id."""
    tmp = f"{link}.{os.getpid()}.tmp"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
    os.symlink(target, tmp)
    os.replace(tmp, link)
