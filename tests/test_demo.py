"""``make demo`` (``smsd demo``) and the ``smsd sim`` commands, run as a person would run them."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from modem.sim import SimModem
from smsd.testing import smsd_command


def test_demo_shows_code_and_reply() -> None:
    """The demo prints the handset's user code, the reply, and a history by user code."""
    done = subprocess.run(
        [*smsd_command(), "demo"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    match = re.search(r"Your personal code is ([A-Z2-9]{6})", out)
    assert match, out
    code = match.group(1)
    assert f"Show code {code} at the till" in out
    assert "Coffee Corner: your 5th coffee is on us." in out
    assert out.count("Your personal code is") == 1
    history = out.split("$ smsd history 'Pizza Place'")[1]
    assert code in history and "+447700900123" not in history


@pytest.fixture
def linked_sim(tmp_path: Path) -> Iterator[tuple[SimModem, str]]:
    """A simulator linked at a path, with its control socket beside it."""
    link = str(tmp_path / "sim0")
    sim = SimModem("generic", link=link)
    sim.start()
    yield sim, link
    sim.stop()


def test_sim_deliver_and_sent_commands(linked_sim: tuple[SimModem, str]) -> None:
    """``smsd sim deliver`` reaches the simulator; ``smsd sim sent --json`` reads what it sent."""
    sim, link = linked_sim
    result = CliRunner().invoke(cli, ["sim", "deliver", "--link", link, "+447700900123", "HI"])
    assert result.exit_code == 0, result.output
    assert sim.stats["delivered"] == 1 and sim.stats["storage_used"] == 1
    result = CliRunner().invoke(cli, ["sim", "sent", "--link", link, "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


def test_sim_commands_without_simulator_exit_3(tmp_path: Path) -> None:
    """No simulator listening: one line on stderr and exit code 3."""
    result = CliRunner().invoke(cli, ["sim", "sent", "--link", str(tmp_path / "none")])
    assert result.exit_code == 3
    assert result.stderr.startswith("Error:") and len(result.stderr.splitlines()) == 1
