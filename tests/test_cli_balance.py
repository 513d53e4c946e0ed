"""``smsd modem balance --device``: USSD on Huawei- and SIMCom-style simulated modems."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from modem.sim import SimModem
from store import Store


@pytest.fixture(params=["huawei", "simcom"])
def sim(request: pytest.FixtureRequest) -> Iterator[SimModem]:
    """A Huawei-style (packed GSM-7 hex) and a SIMCom-style (text) modem."""
    with SimModem(request.param, noise=False) as modem:
        yield modem


def invoke(*args: str) -> tuple[int, str, str]:
    """Run the CLI in-process; exit code, stdout, stderr."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_balance_json_on_each_dialect(sim: SimModem) -> None:
    """The network's text and the parsed amount and currency, as JSON."""
    code, out, err = invoke("modem", "balance", "--device", sim.device_path, "--json")
    assert code == 0, err
    balance = json.loads(out)["modem0"]
    assert balance["text"] == "Your balance is GBP 12.34. Top up at the shop."
    assert (balance["amount"], balance["currency"]) == ("12.34", "GBP")
    assert sim.ussd.requests == ["*100#"]


def test_balance_table_and_other_code(sim: SimModem) -> None:
    """--code asks another code; the table line shows amount and text."""
    sim.fault("ussd", code="*111#", text="Credit: 4.05 EUR")
    code, out, err = invoke("modem", "balance", "--device", sim.device_path, "--code", "*111#")
    assert code == 0, err
    assert out.strip() == "modem0: 4.05 EUR  Credit: 4.05 EUR"


@pytest.mark.parametrize(
    ("mode", "says"), [(4, "not supported"), (2, "ended"), (None, "no answer to *100# within 1 s")]
)
def test_bad_or_missing_answer_is_one_line_exit_3(
    sim: SimModem, mode: int | None, says: str
) -> None:
    """+CUSD: 4, +CUSD: 2 or silence: one line on stderr and exit code 3."""
    sim.fault("ussd", mode=mode)
    args = ("modem", "balance", "--device", sim.device_path, "--json", "--wait", "1")
    code, out, err = invoke(*args)
    assert code == 3 and out == ""
    assert err.count("\n") == 1 and says in err


def test_hostile_code_refused_before_the_port() -> None:
    """A code that is not digits, * and # never reaches an AT command."""
    code, _, err = invoke("modem", "balance", "--device", "/nonexistent", "--code", '*1#";ATD1')
    assert code != 0 and "USSD" in err


def test_doctor_warns_on_a_balance_below_balance_low(tmp_path: Path) -> None:
    """A SIM read below ``[modem] balance_low`` is a warning line (exit 0); one above is ok."""
    db = str(tmp_path / "smsd.db")
    assert invoke("--db", db, "init")[0] == 0
    at = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
    with Store.open(db) as store:
        for name, amount in (("modem0", "3.20"), ("modem1", "12.00")):
            store.balances.record_balance(
                name, at=at, text="\x1b[31mhostile", amount=Decimal(amount), currency="EUR"
            )
    config = tmp_path / "smsd.toml"
    config.write_text('[gateway]\ncontact = "help@example.org"\n[modem]\nbalance_low = 5\n')
    with SimModem("generic", noise=False) as sim:
        args = ("--db", db, "--config", str(config), "doctor", "--device", sim.device_path)
        code, out, err = invoke(*args, "--json")
        table = invoke(*args)[1]
    assert code == 0, err
    found = {c["name"]: c for c in json.loads(out) if c["name"].endswith("balance")}
    assert found["modem0 balance"]["status"] == "warn"
    assert found["modem0 balance"]["detail"].startswith("3.20 EUR, below balance_low 5")
    assert found["modem1 balance"]["status"] == "ok"
    assert "warn  modem0 balance" in table and "\x1b" not in table


def test_doctor_says_nothing_of_balances_without_balance_low(tmp_path: Path) -> None:
    """No ``balance_low`` configured: no balance lines at all, whatever was read."""
    db = str(tmp_path / "smsd.db")
    assert invoke("--db", db, "init")[0] == 0
    with Store.open(db) as store:
        store.balances.record_balance(
            "modem0", at=datetime.now(UTC), text="x", amount=Decimal("0.01"), currency="EUR"
        )
    config = tmp_path / "smsd.toml"
    config.write_text('[gateway]\ncontact = "help@example.org"\n')
    with SimModem("generic", noise=False) as sim:
        code, out, err = invoke(
            "--db", db, "--config", str(config), "doctor", "--device", sim.device_path, "--json"
        )
    assert code == 0, err
    assert not [c for c in json.loads(out) if c["name"].endswith("balance")]
