"""Status reports, in-band reboots and temporary errors, through the real daemon process."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from modem.sim import SimModem
from smsd.settings import RetryPolicy
from smsd.testing import make_db, rows, running_daemon, texts_to, wait_until, write_config

HANDSET = "+447700900123"
PROFILES = ["generic", "huawei", "simcom", "quectel", "telit"]
BOOTING = ["huawei", "simcom", "quectel", "telit"]  # dialects that announce a restart
STATES = "SELECT state, count(*) FROM outgoing GROUP BY state ORDER BY state"


def _config(tmp_path: Path, db: Path, *, reports: bool = True, modem: str = "") -> list[str]:
    path = write_config(tmp_path / "smsd.toml", db, [], status_reports=reports)
    if modem:
        path.write_text(path.read_text() + f"\n[modem]\n{modem}\n")
    return ["--config", str(path)]


def _replied(sim: SimModem, number: str = HANDSET) -> bool:
    return any(t.startswith("Pizza: 2-for-1") for t in texts_to(sim, number))


@pytest.mark.parametrize("profile", PROFILES)
def test_every_report_ends_delivered_and_memory_empty(tmp_path: Path, profile: str) -> None:
    """Each dialect's way (+CDS, +CDSI in SR or SM): all rows delivered, no report kept."""
    db = make_db(tmp_path / "smsd.db")
    with (
        SimModem(profile, noise=False, link=str(tmp_path / "sim0")) as sim,
        running_daemon(tmp_path, db, [sim.link], extra=_config(tmp_path, db)),
    ):
        for n in range(3):
            sim.deliver(f"+44770090012{n}", "PIZZA")
        wait_until(lambda: rows(db, STATES) == [("delivered", 6)], what="6 delivered")
        # The last report is matched (committed) before its CMGD: wait for the delete too.
        wait_until(
            lambda: sim.stats["report_memory_used"] == 0 and sim.stats["storage_used"] == 0,
            what="report memory and SIM storage empty",
        )
        assert sim.stats.get("reports_lost", 0) == 0
        assert all(m["status_report"] for m in sim.sent())


def test_failed_report_fails_the_row_with_its_status(tmp_path: Path) -> None:
    """A report saying failed (TP-ST 0x41), read from SR, fails the row and keeps the status."""
    db = make_db(tmp_path / "smsd.db")
    with SimModem("huawei", noise=False, link=str(tmp_path / "sim0")) as sim:
        sim.status_report("failed")
        with running_daemon(tmp_path, db, [sim.link], extra=_config(tmp_path, db)):
            sim.deliver(HANDSET, "PIZZA")
            wait_until(lambda: rows(db, STATES) == [("failed", 2)], what="2 failed")
            errors = rows(db, "SELECT DISTINCT error FROM outgoing")
            assert errors == [("status report: failed (TP-ST 65)",)]
            wait_until(lambda: sim.stats["report_memory_used"] == 0, what="SR empty")


def test_full_report_memory_is_emptied_at_start(tmp_path: Path) -> None:
    """SR full before the daemon starts: the start-up sweep empties it, later reports land."""
    db = make_db(tmp_path / "smsd.db")
    with SimModem("huawei", noise=False, link=str(tmp_path / "sim0")) as sim:
        sim.fault("fill_reports")
        assert sim.stats["report_memory_used"] == 20
        with running_daemon(tmp_path, db, [sim.link], extra=_config(tmp_path, db)) as daemon:
            wait_until(lambda: sim.stats["report_memory_used"] == 0, what="SR emptied")
            sim.deliver(HANDSET, "PIZZA")
            wait_until(lambda: rows(db, STATES) == [("delivered", 2)], what="2 delivered")
            assert sim.stats.get("reports_lost", 0) == 0
            assert '"report_memory_emptied"' in daemon.log_text()


@pytest.mark.parametrize("profile", BOOTING)
def test_inband_reboot_while_a_text_is_on_its_way(tmp_path: Path, profile: str) -> None:
    """The modem reboots on its own (port open), a text arrives meanwhile: replied within 5 s
    of the boot lines, after a re-initialisation (the rebooted modem forgot CNMI)."""
    db = make_db(tmp_path / "smsd.db")
    with SimModem(profile, noise=False, link=str(tmp_path / "sim0")) as sim:
        extra = _config(tmp_path, db, reports=False)
        with running_daemon(tmp_path, db, [sim.link], extra=extra) as daemon:
            sim.fault("reboot", seconds=1.0)
            sim.deliver(HANDSET, "PIZZA")
            assert sim.wait_booted(10)
            wait_until(lambda: _replied(sim), timeout=5.0, what="the reply after the reboot")
            assert '"modem_rebooted"' in daemon.log_text()
            assert daemon.log_text().count('"modem_ready"') >= 2


def test_silent_reboot_found_by_the_liveness_check(tmp_path: Path) -> None:
    """A modem with no boot lines reboots: the idle check sees CNMI lost and re-initialises."""
    db = make_db(tmp_path / "smsd.db")
    with SimModem("generic", noise=False, link=str(tmp_path / "sim0")) as sim:
        extra = _config(tmp_path, db, reports=False, modem="liveness_interval_s = 0.5")
        with running_daemon(tmp_path, db, [sim.link], extra=extra) as daemon:
            sim.fault("reboot")
            assert sim.wait_booted(10)
            sim.deliver(HANDSET, "PIZZA")  # CNMI forgotten: stored, no +CMTI
            wait_until(lambda: _replied(sim), timeout=10.0, what="the reply")
            assert '"modem_settings_lost"' in daemon.log_text()


def test_idle_liveness_check_is_one_command_per_interval(tmp_path: Path) -> None:
    """Idle, the daemon sends one AT+CNMI? per liveness interval and nothing else."""
    db = make_db(tmp_path / "smsd.db")
    with SimModem("simcom", noise=False, link=str(tmp_path / "sim0")) as sim:
        extra = _config(tmp_path, db, reports=False, modem="liveness_interval_s = 0.5")
        with running_daemon(tmp_path, db, [sim.link], extra=extra):
            wait_until(lambda: sim.command_counts.get("AT+CNMI", 0) >= 3, what="two checks")
            before = dict(sim.command_counts)
            started = time.monotonic()
            wait_until(
                lambda: sim.command_counts.get("AT+CNMI", 0) >= before["AT+CNMI"] + 4,
                what="four more checks",
            )
            elapsed = time.monotonic() - started
            after = dict(sim.command_counts)
    checks = after["AT+CNMI"] - before["AT+CNMI"]
    others = sum(after.values()) - sum(before.values()) - checks
    assert others == 0
    assert checks <= elapsed / 0.5 + 1


def test_two_temporary_errors_retried_within_seconds(tmp_path: Path) -> None:
    """Two +CMS ERROR: 500 on the first reply: it still goes out within 10 s."""
    db = make_db(tmp_path / "smsd.db")
    with SimModem("simcom", noise=False, link=str(tmp_path / "sim0")) as sim:
        sim.fault("cms_error", code=500, count=2)
        with running_daemon(tmp_path, db, [sim.link], extra=_config(tmp_path, db, reports=False)):
            sim.deliver(HANDSET, "PIZZA")
            wait_until(lambda: sim.stats["cms_errors"] >= 1, what="the first error")
            wait_until(lambda: len(texts_to(sim, HANDSET)) >= 2, timeout=10.0, what="replies")


def test_status_json_shows_identity_routing_and_balance(tmp_path: Path) -> None:
    """The daemon records ICCID, own number, report routing and the balance it read; the CLI
    shows them, and --refresh gets a new reading through the database."""
    db = make_db(tmp_path / "smsd.db")
    with SimModem("huawei", noise=False, link=str(tmp_path / "sim0")) as sim:
        extra = _config(tmp_path, db, modem='balance_ussd = "*100#"\nbalance_low = 20')
        with running_daemon(tmp_path, db, [sim.link], extra=extra) as daemon:
            wait_until(lambda: rows(db, "SELECT count(*) FROM modem_balances") == [(1,)])
            args = ["--db", str(db), *extra, "modem", "status", "--json"]
            result = CliRunner().invoke(cli, args)
            assert result.exit_code == 0, result.output
            status = json.loads(result.stdout)["modem0"]
            assert status["iccid"] == "8944110012345678901"
            assert status["own_number"] == "+447700900000"
            assert status["report_routing"] == "stored in SR (+CDSI)"
            assert status["balance"]["amount"] == "12.34"
            assert status["balance"]["low"] is True  # 12.34 < [modem] balance_low = 20
            assert '"balance_low"' in daemon.log_text()
            sim.fault("ussd", text="Your balance is GBP 30.00")
            args = ["--db", str(db), "modem", "balance", "--refresh", "--json", "--wait", "20"]
            result = CliRunner().invoke(cli, args)
            assert result.exit_code == 0, result.output
            assert json.loads(result.stdout)["modem0"]["amount"] == "30.00"
            assert sim.ussd.requests == ["*100#", "*100#"]


def test_retry_policy_first_retries_are_quick_then_exponential() -> None:
    """Two temporary errors cost seconds; later retries grow from the base to the ceiling."""
    policy = RetryPolicy(backoff_base_s=30.0, backoff_max_s=3600.0, first_retry_s=2.0)
    for _ in range(50):
        assert 1.5 <= policy.delay(1) <= 2.5
        assert 2.0 <= policy.delay(2) <= 4.0
        assert 15.0 <= policy.delay(3) <= 30.0
        assert 60.0 <= policy.delay(5) <= 120.0
        assert policy.delay(20) <= 3600.0
    assert len({round(policy.delay(4), 6) for _ in range(10)}) > 1  # jittered
