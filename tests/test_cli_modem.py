"""``smsd modem status`` and ``smsd doctor`` against the simulator on a real pty."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from modem.sim import SimModem


@pytest.fixture(params=["generic", "huawei", "simcom", "quectel", "telit"])
def sim(request: pytest.FixtureRequest) -> Iterator[SimModem]:
    """A simulated modem of each dialect."""
    modem = SimModem(request.param)
    modem.start()
    assert modem.wait_booted(10)
    yield modem
    modem.stop()


def invoke(*args: str) -> tuple[int, str]:
    """Run the CLI in-process; return the exit code and stdout (stderr when it failed)."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return (
        result.exit_code,
        result.stdout if result.exit_code == 0 or "--json" in args else result.stderr,
    )


def test_modem_status_json_per_profile(sim: SimModem) -> None:
    """modem status --json reports identity, SIM, registration, signal and storage."""
    code, out = invoke("modem", "status", "--device", sim.device_path, "--json")
    assert code == 0, out
    status = json.loads(out)["modem0"]
    assert status["sim"] == "READY"
    assert status["imei"] and status["imei"].isdigit() and len(status["imei"]) == 15
    assert status["registration"] in ("home", "roaming")
    assert isinstance(status["signal_dbm"], int) and -113 <= status["signal_dbm"] <= -51
    assert status["storage_total"] == sim.storage.size
    assert status["storage_used"] == 0


def test_modem_status_table(sim: SimModem) -> None:
    """The table form names every field and shows dBm."""
    code, out = invoke("modem", "status", "--device", sim.device_path)
    assert code == 0, out
    for field in ("manufacturer", "model", "imei", "sim", "registration", "operator", "signal_dbm"):
        assert field in out
    assert "dBm" in out


def test_modem_status_missing_device_exits_3(tmp_path: Path) -> None:
    """A port that does not exist is one line on stderr and exit code 3."""
    code, out = invoke("modem", "status", "--device", str(tmp_path / "ttyUSB9"))
    assert code == 3
    assert out.startswith("Error:") and len(out.strip().splitlines()) == 1, out


def test_doctor_all_ok(tmp_path: Path, sim: SimModem) -> None:
    """doctor passes on a database made by `smsd init` (0600) and a healthy simulated modem."""
    db = tmp_path / "smsd.db"
    assert invoke("--db", str(db), "init")[0] == 0
    config = tmp_path / "smsd.toml"
    config.write_text('[gateway]\ncontact = "help@example.org"\n')
    code, out = invoke(
        "--db", str(db), "--config", str(config), "doctor", "--device", sim.device_path
    )
    assert code == 0, out
    assert "FAIL" not in out
    assert oct(os.stat(db).st_mode & 0o777) == "0o600"


def test_doctor_fails_without_contact(tmp_path: Path, sim: SimModem) -> None:
    """An unset [gateway] contact is a failed check (exit 1): HELP replies need one."""
    db = str(tmp_path / "smsd.db")
    assert invoke("--db", db, "init")[0] == 0
    code, out = invoke("--db", db, "doctor", "--device", sim.device_path, "--json")
    assert code == 1
    failed = [c for c in json.loads(out) if not c["ok"]]
    assert [c["name"] for c in failed] == ["contact"] and "unset" in failed[0]["detail"]


def test_doctor_reports_missing_device(tmp_path: Path) -> None:
    """doctor fails with exit 3 and says which device is missing."""
    missing = str(tmp_path / "nope")
    code, out = invoke("--db", str(tmp_path / "x.db"), "doctor", "--device", missing, "--json")
    assert code == 3
    checks = json.loads(out)
    assert any(not c["ok"] and missing in c["detail"] for c in checks)
