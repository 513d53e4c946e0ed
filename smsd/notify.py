"""A small sd_notify client: tell systemd the daemon is ready, alive, reloading or stopping.

The protocol is one datagram per message on the AF_UNIX socket named by ``NOTIFY_SOCKET``
(a file system path, or ``@name`` for an abstract socket), carrying newline-separated
``KEY=value`` assignments. No dependency on libsystemd.

Outside systemd (``NOTIFY_SOCKET`` unset) every method is a no-op returning ``False``, so the
daemon calls them unconditionally. A send error never raises: it is logged once as
``notify_failed`` (and again only after a later send has succeeded), because losing a
notification must never take the gateway down.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Mapping

import structlog

__all__ = ["Notifier"]

_log = structlog.get_logger("smsd.notify")


def _socket_address(value: str) -> str:
    """Turn a ``NOTIFY_SOCKET`` value into an address for ``sendto``."""
    if value.startswith("@"):
        return "\0" + value[1:]
    return value


def _watchdog_seconds(environ: Mapping[str, str], pid: int) -> float | None:
    """Seconds from ``WATCHDOG_USEC`` if the watchdog is meant for ``pid``, else ``None``."""
    raw = environ.get("WATCHDOG_USEC")
    if not raw:
        return None
    owner = environ.get("WATCHDOG_PID")
    if owner:
        try:
            if int(owner) != pid:
                return None
        except ValueError:
            return None
    try:
        usec = int(raw)
    except ValueError:
        return None
    if usec <= 0:
        return None
    return usec / 1_000_000


class Notifier:
    """Sends sd_notify messages to one socket; thread-safe; never raises on send errors."""

    def __init__(self, address: str | None, *, watchdog_seconds: float | None = None) -> None:
        """Notify ``address`` (``NOTIFY_SOCKET`` syntax); ``None`` makes every call a no-op."""
        self._address = address
        self._watchdog_seconds = watchdog_seconds
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._failing = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Notifier:
        """Build a notifier from ``NOTIFY_SOCKET``, ``WATCHDOG_USEC`` and ``WATCHDOG_PID``."""
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET") or None
        return cls(address, watchdog_seconds=_watchdog_seconds(env, os.getpid()))

    @property
    def enabled(self) -> bool:
        """True when there is a socket to notify (the process runs under systemd)."""
        return self._address is not None

    def watchdog_interval(self) -> float | None:
        """The watchdog timeout in seconds (ping at half of it), or ``None`` when not enabled."""
        return self._watchdog_seconds

    def ready(self, status: str | None = None) -> bool:
        """Report that start-up (or a reload) has finished; optionally set the status line."""
        return self._send_fields(("READY", "1"), status)

    def status(self, text: str) -> bool:
        """Set the free-form status shown by ``systemctl status``."""
        return self._send_fields(None, text)

    def watchdog(self) -> bool:
        """Ping the watchdog: the main loop is alive."""
        return self._send_fields(("WATCHDOG", "1"), None)

    def stopping(self, status: str | None = None) -> bool:
        """Report that an orderly shutdown has begun."""
        return self._send_fields(("STOPPING", "1"), status)

    def reloading(self, status: str | None = None) -> bool:
        """Report that a configuration reload has begun; call :meth:`ready` when it is done."""
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        message = f"RELOADING=1\nMONOTONIC_USEC={usec}"
        if status is not None:
            message += f"\nSTATUS={_one_line(status)}"
        return self.send(message)

    def extend_timeout(self, seconds: float) -> bool:
        """Ask for ``seconds`` more before systemd gives up on start-up or shutdown."""
        return self.send(f"EXTEND_TIMEOUT_USEC={max(0, int(seconds * 1_000_000))}")

    def _send_fields(self, field: tuple[str, str] | None, status: str | None) -> bool:
        lines = [] if field is None else [f"{field[0]}={field[1]}"]
        if status is not None:
            lines.append(f"STATUS={_one_line(status)}")
        return self.send("\n".join(lines))

    def send(self, message: str) -> bool:
        """Send one raw notification; True if it was handed to the socket."""
        if self._address is None:
            return False
        data = message.encode("utf-8")
        with self._lock:
            try:
                if self._sock is None:
                    self._sock = socket.socket(
                        socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC
                    )
                    # Never block: a reader that stopped reading (full queue) must not stall
                    # the main loop; the message is dropped and logged as notify_failed.
                    self._sock.setblocking(False)
                self._sock.sendto(data, _socket_address(self._address))
            except OSError as exc:
                if not self._failing:
                    self._failing = True
                    _log.warning("notify_failed", socket=self._address, error=str(exc))
                return False
            self._failing = False
            return True

    def close(self) -> None:
        """Close the client socket (a later send opens a new one)."""
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None


def _one_line(text: str) -> str:
    """A STATUS value may not contain a newline: it would start a new assignment."""
    return " ".join(text.splitlines())
