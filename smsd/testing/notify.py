"""A systemd notify socket for tests: a real AF_UNIX datagram socket that collects messages.

Usage::

    with notify_socket(tmp_path) as sock:
        env = {**os.environ, **sock.env}          # NOTIFY_SOCKET for a child process
        ...
        sock.wait_for("READY", timeout=10)         # returns the message that contained READY=1
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["NotifyListener", "notify_socket"]

# sun_path holds 108 bytes including the terminating NUL; pytest's tmp_path can be longer.
_MAX_PATH = 100


class NotifyListener:
    """The receiving end of a notify socket; ``messages`` holds each datagram as a dict."""

    def __init__(self, sock: socket.socket, path: str) -> None:
        """Wrap a bound datagram socket at ``path``."""
        self._sock = sock
        self.path = path
        self.messages: list[dict[str, str]] = []

    @property
    def env(self) -> dict[str, str]:
        """Environment variables that point a notifier at this socket."""
        return {"NOTIFY_SOCKET": self.path}

    def receive(self, timeout: float) -> dict[str, str] | None:
        """Wait up to ``timeout`` seconds for one datagram; parse, record and return it."""
        self._sock.settimeout(max(timeout, 0.0))
        try:
            data = self._sock.recv(65536)
        except (TimeoutError, BlockingIOError):
            return None
        fields: dict[str, str] = {}
        for line in data.decode("utf-8").split("\n"):
            key, sep, value = line.partition("=")
            if sep:
                fields[key] = value
        self.messages.append(fields)
        return fields

    def drain(self) -> None:
        """Read and forget whatever is queued (a previous run's messages)."""
        while self.receive(0) is not None:
            pass
        self.messages.clear()

    def wait_for(self, key: str, value: str = "1", timeout: float = 10.0) -> dict[str, str]:
        """Return the first message (already received or new) with ``key=value``; else fail."""
        for message in self.messages:
            if message.get(key) == value:
                return message
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            received = self.receive(left)
            if received is not None and received.get(key) == value:
                return received
        raise AssertionError(f"no {key}={value} within {timeout}s; got {self.messages!r}")

    def wait_for_match(self, key: str, fragment: str, timeout: float = 10.0) -> str:
        """Return the first value of ``key`` (already received or new) containing ``fragment``."""
        for message in self.messages:
            if fragment in message.get(key, ""):
                return message[key]
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            received = self.receive(left)
            if received is not None and fragment in received.get(key, ""):
                return received[key]
        raise AssertionError(f"no {key} with {fragment!r} within {timeout}s; got {self.messages!r}")


@contextlib.contextmanager
def notify_socket(directory: Path) -> Iterator[NotifyListener]:
    """Bind a datagram socket in ``directory`` (or a short temp dir if that path is too long)."""
    own_dir: str | None = None
    path = str(directory / "notify.sock")
    if len(path) > _MAX_PATH:
        own_dir = tempfile.mkdtemp(prefix="smsd-notify-")
        path = str(Path(own_dir) / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        sock.bind(path)
        yield NotifyListener(sock, path)
    finally:
        sock.close()
        Path(path).unlink(missing_ok=True)
        if own_dir is not None:
            shutil.rmtree(own_dir, ignore_errors=True)
