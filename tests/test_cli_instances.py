"""One daemon per database and per modem; a simulator never takes over or deletes another's link."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from modem.sim import SimModem
from modem.sim.link import LinkInUse
from smsd.testing import make_db, running_daemon, smsd_command


def second_run(db: Path, *devices: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`smsd --db DB run --device ...` as a real process that should refuse to start."""
    args = [*smsd_command(), "--db", str(db), "run"]
    for device in devices:
        args += ["--device", device]
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)


def test_second_daemon_on_the_same_database_is_refused(tmp_path: Path, sim: SimModem) -> None:
    """A second `smsd run` on a database in use exits non-zero naming the first one's pid."""
    db = make_db(tmp_path / "smsd.db")
    other = SimModem("generic", noise=False, link=str(tmp_path / "other0"))
    other.start()
    try:
        with running_daemon(tmp_path, db, [sim.link]) as first:
            done = second_run(db, str(tmp_path / "other0"))
            assert first.alive()
    finally:
        other.stop()
    assert done.returncode != 0
    assert f"already running on database {db} (pid {first.pid})" in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr


def test_second_daemon_on_the_same_modem_is_refused(tmp_path: Path, sim: SimModem) -> None:
    """A second `smsd run` on a port another daemon holds exits non-zero with that pid."""
    db = make_db(tmp_path / "smsd.db")
    with running_daemon(tmp_path, db, [sim.link]) as first:
        done = second_run(tmp_path / "second.db", sim.link)
        assert first.alive()
    assert done.returncode != 0
    assert f"(pid {first.pid})" in done.stderr and "modem" in done.stderr


def test_second_builtin_simulator_on_a_link_is_refused(tmp_path: Path) -> None:
    """`smsd run --device sim` on a link another daemon's simulator serves: refused, link kept."""
    db = make_db(tmp_path / "smsd.db")
    link = tmp_path / "sim0"
    extra = ["--sim-link", str(link)]
    with running_daemon(tmp_path, db, ["sim"], extra=extra) as first:
        target = os.readlink(link)
        args = [*smsd_command(), "--db", str(tmp_path / "b.db"), "run", "--device", "sim", *extra]
        done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
        assert os.readlink(link) == target  # neither repointed nor deleted
        assert first.alive()
    assert done.returncode != 0
    assert f"already running (pid {first.pid})" in done.stderr


def test_sim_refuses_a_link_in_use_and_leaves_it(tmp_path: Path, sim: SimModem) -> None:
    """A second simulator on the same link raises LinkInUse; the first keeps its link."""
    target = os.readlink(sim.link)
    second = SimModem("generic", noise=False, link=sim.link)
    with pytest.raises(LinkInUse, match=f"pid {os.getpid()}"):
        second.start()
    second.stop()
    assert os.readlink(sim.link) == target


def test_sim_command_refuses_a_link_in_use(tmp_path: Path, sim: SimModem) -> None:
    """`smsd sim --link L` on a served link: one line, non-zero exit, the link untouched."""
    target = os.readlink(sim.link)
    result = CliRunner().invoke(cli, ["sim", "--link", sim.link])
    assert result.exit_code != 0
    assert "already running" in result.stderr and result.stderr.count("\n") == 1
    assert os.readlink(sim.link) == target


def test_sim_never_deletes_a_link_it_does_not_own(tmp_path: Path) -> None:
    """A simulator whose link was repointed elsewhere leaves that link alone when it stops."""
    link = tmp_path / "sim0"
    sim = SimModem("generic", noise=False, link=str(link))
    sim.start()
    os.unlink(link)
    os.symlink("/dev/null", link)  # someone else's now
    sim.stop()
    assert os.readlink(link) == "/dev/null"


def test_sim_refuses_a_path_that_is_not_a_simulator_link(tmp_path: Path) -> None:
    """A real device name or file at the link path is never replaced."""
    path = tmp_path / "ttyUSB0"
    path.write_text("not a pty")
    with pytest.raises(LinkInUse, match="not a simulator link"):
        SimModem("generic", noise=False, link=str(path)).start()
    assert path.read_text() == "not a pty"


def test_sim_logs_no_phone_number_at_info(tmp_path: Path) -> None:
    """`smsd sim` at log level info logs a delivery without the sender's number."""
    link = str(tmp_path / "sim0")
    env = {**os.environ, "SMSD_LOG_LEVEL": "info", "SMSD_LOG_FORMAT": "json"}
    proc = subprocess.Popen(
        [*smsd_command(), "sim", "--link", link],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    try:
        lines = [proc.stdout.readline()]
        while "simulated" not in lines[-1] and lines[-1]:
            lines.append(proc.stdout.readline())
        delivered = CliRunner().invoke(
            cli, ["sim", "deliver", "+447700900123", "PIZZA", "--link", link]
        )
        assert delivered.exit_code == 0, delivered.output
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    log = "".join(lines) + out
    assert "sim_sms_delivered" in log
    assert "447700900123" not in log


def test_send_warns_when_no_daemon_runs_and_has_json(tmp_path: Path, sim: SimModem) -> None:
    """`smsd send` warns on stderr when no daemon holds the database; --json says so too."""
    db = make_db(tmp_path / "smsd.db")
    alone = CliRunner().invoke(cli, ["--db", str(db), "send", "+447700900123", "hi", "--json"])
    assert alone.exit_code == 0, alone.output
    assert json.loads(alone.stdout) == {
        "id": 1,
        "recipient": "+447700900123",
        "parts": 1,
        "daemon_running": False,
    }
    assert "no daemon is running" in alone.stderr
    with running_daemon(tmp_path, db, [sim.link]):
        served = CliRunner().invoke(cli, ["--db", str(db), "send", "+447700900123", "hi"])
    assert served.exit_code == 0, served.output
    assert served.stderr == ""
    assert served.stdout.startswith("queued message 2 to +447700900123 (1 part)")
