"""The unit's exact ExecStart under a fake systemd: READY, STATUS, WATCHDOG, reload, stop."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
from pathlib import Path

from modem.sim import SimModem
from smsd.testing import make_db, notify_socket, texts_to, wait_until, write_config

ROOT = Path(__file__).resolve().parent.parent

UNIT = ROOT / "systemd" / "smsd.service"
HANDSET = "+447700900123"


def unit_exec_start(config: Path) -> tuple[list[str], dict[str, str]]:
    """ExecStart= and Environment= of the unit, with the venv and config moved to test paths."""
    argv: list[str] = []
    env: dict[str, str] = {}
    for line in UNIT.read_text().splitlines():
        key, _, value = line.partition("=")
        if key == "ExecStart":
            argv = shlex.split(value)
        elif key == "Environment":
            name, _, setting = value.partition("=")
            env[name] = setting
    assert argv[0] == "/opt/smsd/venv/bin/smsd" and argv[1:3] == ["run", "--config"], argv
    argv[0] = str(ROOT / ".venv" / "bin" / "smsd")
    argv[argv.index("--config") + 1] = str(config)
    return argv, env


def test_exec_start_speaks_sd_notify(tmp_path: Path) -> None:
    """READY=1, STATUS= and WATCHDOG=1 arrive; SIGHUP gives RELOADING=1 then READY=1; SIGTERM 0."""
    db = make_db(tmp_path / "smsd.db")
    with (
        SimModem("generic", noise=False, link=str(tmp_path / "sim0")) as sim,
        notify_socket(tmp_path) as listener,
    ):
        config = write_config(tmp_path / "smsd.toml", db, [sim.link])
        argv, unit_env = unit_exec_start(config)
        env = {**os.environ, **unit_env, **listener.env, "WATCHDOG_USEC": "2000000"}
        with open(tmp_path / "daemon.log", "wb") as log:
            proc = subprocess.Popen(argv, env=env, stdout=log, stderr=log, cwd=tmp_path)
        try:
            listener.wait_for("READY", timeout=30)
            assert "modems up 1/1, queue 0" in listener.wait_for_match("STATUS", "modems up")
            listener.wait_for("WATCHDOG", timeout=5)
            listener.messages.clear()
            proc.send_signal(signal.SIGHUP)
            listener.wait_for("RELOADING", timeout=10)
            assert "MONOTONIC_USEC" in listener.messages[0]
            listener.wait_for("READY", timeout=10)
            sim.deliver(HANDSET, "PIZZA")  # still working after the reload
            wait_until(lambda: len(texts_to(sim, HANDSET)) >= 2, what="replies after reload")
            listener.messages.clear()
            listener.wait_for("WATCHDOG", timeout=5)  # still pinging after the reload
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
            listener.wait_for("STOPPING", timeout=5)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert "config_reloaded" in (tmp_path / "daemon.log").read_text()
