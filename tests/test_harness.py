"""The test harness itself: a daemon a test leaves running is killed, not leaked."""

from __future__ import annotations

from pathlib import Path

from modem.sim import SimModem
from smsd.testing import DaemonProcess, kill_leftovers, notify_socket


def test_leftover_daemon_is_killed(tmp_path: Path, sim: SimModem) -> None:
    """kill_leftovers ends a daemon the test forgot, so it cannot grab a later test's modem."""
    with notify_socket(tmp_path) as listener:
        daemon = DaemonProcess(tmp_path, tmp_path / "smsd.db", [sim.link])
        daemon.start(listener)
        assert daemon.alive()
        assert kill_leftovers() == 1
        assert not daemon.alive()
        assert kill_leftovers() == 0
