"""What operators type: typo'd paths, options in any order, duplicates, pipes, bad bytes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli.main import cli
from store import Store

T0 = datetime(2026, 10, 5, 9, 30, tzinfo=UTC)
READS = [
    ["stats"],
    ["company", "list"],
    ["company", "show", "Pizza Place"],
    ["code", "list"],
    ["inbox"],
    ["outbox"],
    ["audit"],
    ["invoice", "list"],
    ["history", "Pizza Place"],
    ["modem", "status"],
]


def run(*args: str) -> Result:
    """Invoke `smsd ARGS` in-process."""
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A database with one business and one code."""
    path = tmp_path / "smsd.db"
    with Store.open(path) as store:
        biz = store.directory.add_business("Pizza Place", now=T0)
        store.directory.add_code(biz.id, "PIZZA", "2-for-1", now=T0)
    return path


@pytest.mark.parametrize("args", READS, ids=lambda a: " ".join(a))
def test_typoed_db_exits_3_and_creates_nothing(tmp_path: Path, args: list[str]) -> None:
    """A read command on a database that does not exist: exit 3, one line, no file made."""
    missing = tmp_path / "smds.db"
    result = run("--db", str(missing), *args)
    assert result.exit_code == 3, result.output
    assert result.stderr.count("\n") == 1 and "no database at" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_doctor_on_a_typoed_db_exits_3_and_creates_nothing(tmp_path: Path) -> None:
    """doctor says the database is missing (exit 3) instead of creating an empty one."""
    result = run("--db", str(tmp_path / "typo.db"), "doctor", "--device", "loop://", "--json")
    assert result.exit_code == 3, result.output
    checks = {c["name"]: c for c in json.loads(result.stdout)}
    assert not checks["database"]["ok"]
    assert not (tmp_path / "typo.db").exists()


@pytest.mark.parametrize("args", READS[:-1], ids=lambda a: " ".join(a))
def test_read_commands_leave_the_database_unchanged(db: Path, args: list[str]) -> None:
    """Read commands open read-only: the database file's bytes are the same afterwards."""
    before = db.read_bytes()
    result = run("--db", str(db), *args)
    assert result.exit_code == 0, result.output
    assert db.read_bytes() == before


def test_init_creates_a_private_database_once(tmp_path: Path) -> None:
    """`smsd init` creates the database 0600; a second run says it is up to date."""
    path = tmp_path / "new.db"
    first = run("--db", str(path), "init")
    assert first.exit_code == 0 and "created database" in first.stdout
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    second = run("--db", str(path), "init")
    assert second.exit_code == 0 and "up to date" in second.stdout
    assert run("--db", str(path), "company", "list").exit_code == 0


@pytest.mark.parametrize(
    "args",
    [
        ["history", "Pizza Place", "--db", "{db}"],
        ["code", "list", "--db={db}"],
        ["company", "--db", "{db}", "show", "Pizza Place", "--json"],
    ],
)
def test_db_option_works_after_the_subcommand(db: Path, args: list[str]) -> None:
    """`--db` is accepted after the subcommand as well as before it."""
    result = run(*(a.format(db=db) for a in args))
    assert result.exit_code == 0, result.output


def test_config_option_works_after_the_subcommand(db: Path, tmp_path: Path) -> None:
    """`--config` after the subcommand is read (its region turns a national number E.164)."""
    config = tmp_path / "smsd.toml"
    config.write_text('[gateway]\ndefault_region = "US"\n')
    result = run("send", "(201) 555-0123", "hi", "--config", str(config), "--db", str(db))
    assert result.exit_code == 0, result.output
    assert "+12015550123" in result.stdout


def test_non_utf8_argument_is_one_clear_line() -> None:
    """An argument that is not UTF-8 (surrogate-escaped by Python) gives one line, exit 2."""
    result = run("company", "show", "caf\udce9")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "not valid UTF-8" in result.stderr
    assert "Traceback" not in result.output


def test_duplicate_business_is_a_friendly_conflict(db: Path) -> None:
    """Adding a business twice names it and points to `company update`, not SQLite."""
    result = run("--db", str(db), "company", "add", "Pizza Place")
    assert result.exit_code == 1
    assert result.stderr == "Error: business 'Pizza Place' already exists (use company update)\n"


def test_unwritable_output_file_exits_1(db: Path, tmp_path: Path) -> None:
    """An --output that cannot be written is the operator's error: exit 1, one line."""
    target = tmp_path / "no-such-dir" / "out.csv"
    result = run("--db", str(db), "export", "Pizza Place", "--output", str(target))
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: cannot write") and result.stderr.count("\n") == 1


def test_unwritable_backup_target_exits_1(db: Path, tmp_path: Path) -> None:
    """A backup into a folder that does not exist is exit 1 (not "database unreachable")."""
    result = run("--db", str(db), "backup", str(tmp_path / "no-such-dir" / "b.db"))
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: cannot create") and result.stderr.count("\n") == 1


def test_broken_pipe_is_quiet(db: Path) -> None:
    """`smsd outbox | head -1`: no "Broken pipe" message and not exit 3."""
    with Store.open(db) as store:
        for n in range(1500):
            store.outbox.queue_outgoing(f"+4477009{n:05d}", "x" * 80, "manual", now=T0)
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "--db", str(db), "outbox", "--limit", "1500"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=30) not in (0, 3)
    assert err == b""


def test_company_update_with_nothing_to_change_says_so(db: Path) -> None:
    """`company update NAME` without options changes nothing and does not claim it did."""
    result = run("--db", str(db), "company", "update", "Pizza Place")
    assert result.exit_code == 1
    assert "nothing to change" in result.stderr and "updated" not in result.stdout


def test_unknown_modem_name_is_refused(db: Path) -> None:
    """`company update --modem` refuses a modem neither configured nor seen by the daemon."""
    result = run("--db", str(db), "company", "update", "Pizza Place", "--modem", "modem1")
    assert result.exit_code == 1
    assert "no modem named 'modem1'" in result.stderr


@pytest.mark.parametrize("month", ["1999-01", "2026-13", "soon"])
def test_invoice_month_is_validated(db: Path, month: str) -> None:
    """A month before the business existed, or not YYYY-MM, is refused."""
    result = run("--db", str(db), "invoice", "create", "Pizza Place", "--month", month)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error:")
    assert run("--db", str(db), "invoice", "list", "--json").stdout.strip() == "[]"


def test_code_list_names_the_business(db: Path) -> None:
    """`code list` shows the business's name, not its id."""
    result = run("--db", str(db), "code", "list")
    assert result.exit_code == 0
    header, _, row = result.stdout.splitlines()
    assert "business" in header and "business_id" not in header
    assert "Pizza Place" in row


def test_doctor_warns_on_zero_prices_and_fails_on_no_contact(db: Path) -> None:
    """With default prices (0) doctor warns; with no contact it fails that check."""
    result = run("--db", str(db), "doctor", "--device", "loop://", "--json")
    checks = {c["name"]: c for c in json.loads(result.stdout)}
    assert checks["prices"]["status"] == "warn" and "bill nothing" in checks["prices"]["detail"]
    assert checks["prices"]["ok"]
    assert checks["contact"]["status"] == "FAIL"


def test_modem_status_exits_3_when_no_modem_is_up(db: Path) -> None:
    """The daemon's report shows every modem down: printed, then exit 3."""
    with Store.open(db) as store:
        store.modems.record_modem_status("modem0", "/dev/ttyUSB0", healthy=False, now=T0)
    result = run("--db", str(db), "modem", "status")
    assert "modem0" in result.stdout
    assert result.exit_code == 3 and "no modem is up" in result.stderr


def test_hoist_globals_moves_options_but_not_after_double_dash() -> None:
    """--db/--config (spaced or with =) move to the front; after `--` nothing moves."""
    from cli.main import hoist_globals

    assert hoist_globals(["history", "X", "--db", "f", "--config=c"]) == [
        "--db", "f", "--config=c", "history", "X",
    ]  # fmt: skip
    assert hoist_globals(["send", "--db", "f", "--", "1", "--db"]) == [
        "--db", "f", "send", "--", "1", "--db",
    ]  # fmt: skip
