"""The real daemon as a child process (the ``smsd run`` console script), as systemd runs it.

Every daemon started here is remembered until it ends: :func:`kill_leftovers` SIGKILLs what a
test or a benchmark left running (a failed assertion, say), because a leftover daemon keeps
reconnecting to its port and could grab a later run's modem.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from smsd.testing.notify import NotifyListener, notify_socket

__all__ = ["DaemonProcess", "kill_leftovers", "running_daemon", "smsd_command"]

_STARTED: list[subprocess.Popen[bytes]] = []


def smsd_command() -> list[str]:
    """The installed ``smsd`` console script beside this interpreter (what ExecStart runs)."""
    script = Path(sys.executable).with_name("smsd")
    if not script.exists():
        raise FileNotFoundError(f"{script}: the smsd console script is not installed here")
    return [str(script)]


def kill_leftovers() -> int:
    """SIGKILL every daemon started here that is still running; return how many."""
    killed = 0
    while _STARTED:
        proc = _STARTED.pop()
        if proc.poll() is None:
            proc.kill()
            killed += 1
        proc.wait(timeout=10)
    return killed


class DaemonProcess:
    """One ``smsd run`` child with a notify socket: start, kill, terminate, stop, restart.

    Each start logs (JSON) to ``tmp/daemon-N.log``; ``env`` adds to the environment.
    """

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
        self.ready_after: float | None = None  # seconds from the last start to READY=1

    @property
    def pid(self) -> int:
        """The running child's process id."""
        assert self.proc is not None, "not started"
        return self.proc.pid

    def argv(self) -> list[str]:
        """The command line: the same as the unit's ExecStart, with these paths."""
        args = [*smsd_command(), "--db", str(self.db), "run"]
        for device in self.devices:
            args += ["--device", device]
        return args + self.extra

    def start(
        self, listener: NotifyListener, wait_ready: bool = True, timeout: float = 60.0
    ) -> None:
        """Start the daemon and (by default) wait for READY=1; its log tail if it never comes."""
        self.notify = listener
        listener.drain()  # a full queue would make the daemon drop READY
        env = {**os.environ, "SMSD_LOG_FORMAT": "json", **self.env, **listener.env}
        started = time.perf_counter()
        with open(self.tmp / f"daemon-{self.starts}.log", "wb") as log:
            self.proc = subprocess.Popen(self.argv(), env=env, stdout=log, stderr=log)
        _STARTED.append(self.proc)
        self.starts += 1
        if wait_ready:
            self._wait_ready(listener, time.monotonic() + timeout)
            self.ready_after = time.perf_counter() - started

    def _wait_ready(self, listener: NotifyListener, deadline: float) -> None:
        while (left := deadline - time.monotonic()) > 0 and self.alive():
            try:
                listener.wait_for("READY", timeout=min(left, 1.0))
                return
            except AssertionError:
                continue  # not yet: look at the process again
        tail = self.log_text()[-2000:]
        raise TimeoutError(f"daemon not ready (exit code {self.proc_returncode()}):\n{tail}")

    def proc_returncode(self) -> int | None:
        """The child's exit code, None while it runs."""
        return None if self.proc is None else self.proc.poll()

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

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM if running, SIGKILL if it does not end within ``timeout``; the exit code."""
        if not self.alive():
            return self.proc_returncode()
        try:
            return self.terminate(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def alive(self) -> bool:
        """Whether the child is still running."""
        return self.proc is not None and self.proc.poll() is None


@contextmanager
def running_daemon(
    tmp: Path,
    db: Path,
    devices: list[str],
    *,
    graceful: bool = False,
    extra: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[DaemonProcess]:
    """A started (READY) daemon; at the end SIGKILLed, or with ``graceful`` stopped by SIGTERM."""
    with notify_socket(tmp) as listener:
        daemon = DaemonProcess(tmp, db, devices, extra=extra, env=env)
        daemon.start(listener)
        try:
            yield daemon
        finally:
            if graceful:
                daemon.stop()
            elif daemon.alive():
                daemon.kill()
