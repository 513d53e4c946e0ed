"""`smsd send` asks whether a daemon runs by probing its flock; the probe never stops one."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import cli.instance
from cli.instance import AlreadyRunning, daemon_running, lock_database

#: Holds an flock of the kind argv[2] names on the file argv[1] until its stdin closes.
_HOLDER = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.flock(fd, fcntl.LOCK_EX if sys.argv[2] == "ex" else fcntl.LOCK_SH)
print("held", flush=True)
sys.stdin.read()
"""


def hold(path: Path, kind: str) -> subprocess.Popen[str]:
    """Another process holding an exclusive ("ex", as `smsd run`) or shared ("sh") flock."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path), kind],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    return holder


def release(holder: subprocess.Popen[str]) -> None:
    """End the holder (its flock goes with it): its stdin closes, it exits."""
    holder.communicate(timeout=30)


def test_probe_sees_a_running_daemons_lock(tmp_path: Path) -> None:
    """True exactly while another process holds the exclusive flock; a missing file is False."""
    db = tmp_path / "smsd.db"
    assert not daemon_running(db)
    db.write_bytes(b"")
    assert not daemon_running(db)
    holder = hold(db, "ex")
    try:
        assert daemon_running(db)
        with pytest.raises(AlreadyRunning, match="already running on database"):
            lock_database(db, patience=0.05)
    finally:
        release(holder)
    assert not daemon_running(db)


class WaitWatcher:
    """Stands in for `cli.instance`'s `time`: real clock and sleep, and a hook on the first wait."""

    def __init__(self, on_first_wait: Callable[[], None]) -> None:
        self.waits = 0
        self.monotonic = time.monotonic
        self._on_first_wait = on_first_wait

    def sleep(self, seconds: float) -> None:
        """Count the wait; the first one runs the hook."""
        self.waits += 1
        if self.waits == 1:
            self._on_first_wait()
        time.sleep(seconds)


def test_a_starting_daemon_waits_out_a_probe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shared lock held when `smsd run` starts (a probe) delays the lock, never refuses it."""
    db = tmp_path / "smsd.db"
    db.write_bytes(b"")
    probe = hold(db, "sh")
    watcher = WaitWatcher(lambda: release(probe))  # the probe ends once the daemon waits
    monkeypatch.setattr(cli.instance, "time", watcher)
    fd = lock_database(db, patience=30)
    try:
        assert watcher.waits >= 1  # it found the probe's lock and waited
        assert daemon_running(db)  # now this process holds it, as the daemon would
    finally:
        os.close(fd)
    assert not daemon_running(db)
