"""Run the real daemon as a subprocess (``python -m cli run``), as systemd would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from notifysock import NotifyListener, notify_socket

__all__ = ["DaemonProcess", "kill_leftovers", "running_daemon", "wait_until"]

ROOT = Path(__file__).resolve().parent.parent


def wait_until(predicate: Callable[[], Any], timeout: float = 20.0, what: str = "") -> Any:
    """Poll ``predicate`` until it returns something truthy, or fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
        time.sleep(0.02)  # a poll interval on a deadline, not a synchronisation sleep


_STARTED: list[subprocess.Popen[bytes]] = []


def kill_leftovers() -> int:
    """SIGKILL every daemon a test started and left running (a failed assertion, say).

    A leftover daemon keeps reconnecting to its port: it must never outlive its test.
    """
    killed = 0
    while _STARTED:
        proc = _STARTED.pop()
        if proc.poll() is None:
            proc.kill()
            killed += 1
        proc.wait(timeout=10)
    return killed


class DaemonProcess:
    """One ``smsd run`` child with a notify socket; start, kill, terminate, restart."""

    def __init__(
        self,
        tmp: Path,
        db: Path,
        devices: list[str],
        extra: list[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.tmp, self.db, self.devices = tmp, db, devices
        self.extra = extra or []
        self.env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.notify: NotifyListener | None = None
        self.starts = 0

    def argv(self) -> list[str]:
        """The command line: the same as the unit's ExecStart, with test paths."""
        args = [sys.executable, "-m", "cli", "--db", str(self.db), "run"]
        for device in self.devices:
            args += ["--device", device]
        return args + self.extra

    def start(self, listener: NotifyListener, wait_ready: bool = True) -> None:
        """Start the daemon and (by default) wait for READY=1."""
        self.notify = listener
        listener.drain()  # a full queue would make the daemon drop READY
        env = {
            **os.environ,
            "SMSD_LOG_FORMAT": "json",
            "PYTHONPATH": str(ROOT),
            **self.env,
            **listener.env,
        }
        with open(self.tmp / f"daemon-{self.starts}.log", "wb") as log:
            self.proc = subprocess.Popen(self.argv(), env=env, stdout=log, stderr=log, cwd=ROOT)
        _STARTED.append(self.proc)
        self.starts += 1
        if wait_ready:
            listener.wait_for("READY", timeout=30)

    def log_text(self) -> str:
        """Everything every run of the daemon logged so far."""
        return "".join(
            (self.tmp / f"daemon-{i}.log").read_text(errors="replace") for i in range(self.starts)
        )

    def kill(self) -> None:
        """SIGKILL: no clean-up at all, like a power cut for the process."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def terminate(self, timeout: float = 30) -> int:
        """SIGTERM and wait; return the exit code."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def alive(self) -> bool:
        """Whether the child is still running."""
        return self.proc is not None and self.proc.poll() is None


@contextmanager
def running_daemon(tmp: Path, db: Path, devices: list[str], **kw: Any) -> Iterator[DaemonProcess]:
    """A started daemon, killed at the end whatever happened."""
    with notify_socket(tmp) as listener:
        daemon = DaemonProcess(tmp, db, devices, **kw)
        daemon.start(listener)
        try:
            yield daemon
        finally:
            if daemon.alive():
                daemon.kill()
