"""The harness itself (smsd.testing): a daemon a test leaves running is killed; waits end."""

from __future__ import annotations

from pathlib import Path

import pytest

from modem.sim import SimModem
from smsd.testing import DaemonProcess, kill_leftovers, notify_socket, wait_until


def test_leftover_daemon_is_killed(tmp_path: Path, sim: SimModem) -> None:
    """kill_leftovers ends a daemon the test forgot, so it cannot grab a later test's modem."""
    with notify_socket(tmp_path) as listener:
        daemon = DaemonProcess(tmp_path, tmp_path / "smsd.db", [sim.link])
        daemon.start(listener)
        assert daemon.alive()
        assert kill_leftovers() == 1
        assert not daemon.alive()
        assert kill_leftovers() == 0


def test_wait_until_returns_the_value_or_names_what_timed_out() -> None:
    """wait_until returns the first truthy value; at the deadline it names what it awaited."""
    values = iter([0, "", "ready"])
    assert wait_until(lambda: next(values), timeout=5, what="a value") == "ready"
    with pytest.raises(TimeoutError, match="the impossible"):
        wait_until(lambda: False, timeout=0.1, what="the impossible")
