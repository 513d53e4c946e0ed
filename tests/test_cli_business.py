"""`smsd company ...`, `history` filters and `export` on a real database."""

from __future__ import annotations

import csv
import io
import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli.main import cli
from store import OptinDraft, Plan, RequestDraft, Store

T0 = datetime(2026, 9, 7, 12, 0, tzinfo=UTC)


# Light argon2 parameters (conftest.py) so the tests stay fast.
pytestmark = pytest.mark.usefixtures("fast_hashes")


def run(db: Path, *args: str, input: str | None = None) -> Result:
    """Invoke `smsd --db DB ARGS...`."""
    return CliRunner().invoke(cli, ["--db", str(db), *args], input=input)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Pizza Place with PIZZA (3 requests on 3 days by 2 people) and PASTA (none)."""
    path = tmp_path / "smsd.db"
    with Store.open(path) as store:
        store.directory.add_business("Pizza Place", now=T0)
        store.directory.add_code(1, "PIZZA", "ok", now=T0)
        store.directory.add_code(1, "PASTA", "ok", now=T0)
        for i, phone in enumerate(["+447700900600", "+447700900601", "+447700900600"]):
            at = T0 + timedelta(days=i)
            msg = store.inbox.record_incoming(
                sender=phone, sender_type="international", text="PIZZA", received_at=at, scts=at
            )
            assert msg is not None
            store.routing.apply(msg, Plan(create_person=True, requests=(RequestDraft(1, 1),),
                                  optins=(OptinDraft("in", 1, "PIZZA"),)), at)  # fmt: skip
    return path


def test_company_add_with_profile_and_password(tmp_path: Path) -> None:
    """All business fields and a stdin password are saved in one go."""
    db = tmp_path / "smsd.db"
    result = run(db, "company", "add", "Cafe", "--first-name", "Bo", "--surname", "Chan",
                 "--email", "bo@cafe.example", "--sector", "restaurants", "--password-stdin",
                 input="cafe-pass-1\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    with Store.open(db) as store:
        profile = store.accounts.business_profile("cafe")
        assert (profile.email, profile.sector, profile.password_set) == (
            "bo@cafe.example",
            "restaurants",
            True,
        )
        assert store.accounts.check_business_password("Cafe", "cafe-pass-1")


def test_company_add_bad_email_writes_nothing(tmp_path: Path) -> None:
    """A bad email fails with exit 1 and the business is not created."""
    db = tmp_path / "smsd.db"
    result = run(db, "company", "add", "Cafe", "--email", "nope")
    assert result.exit_code == 1 and "email" in result.stderr
    assert json.loads(run(db, "company", "list", "--json").stdout) == []


def test_duplicate_and_unknown_are_user_errors(db: Path) -> None:
    """Duplicate business or code, unknown business: one line, exit 1."""
    for args in (["company", "add", "pizza place"], ["code", "add", "Pizza Place", "pizza",
                 "--reply", "x"], ["company", "show", "Nope"], ["history", "Nope"]):  # fmt: skip
        result = run(db, *args)
        assert result.exit_code == 1, args
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: ")


def test_company_update_and_show(db: Path) -> None:
    """`company show --json` gives details, per-code counts and opted-in people."""
    assert run(db, "company", "update", "Pizza Place", "--sector", "food").exit_code == 0
    doc = json.loads(run(db, "company", "show", "Pizza Place", "--json").stdout)
    assert doc["business"]["sector"] == "food" and doc["opted_in"] == 2
    assert doc["codes"] == [
        {"code": "PASTA", "paused": False, "requests": 0, "people": 0},
        {"code": "PIZZA", "paused": False, "requests": 3, "people": 2},
    ]
    assert "PIZZA" in run(db, "company", "show", "Pizza Place").stdout


def test_history_filters(db: Path) -> None:
    """--code, --since and --until narrow the history."""

    def count(*args: str) -> int:
        return len(json.loads(run(db, "history", "Pizza Place", "--json", *args).stdout))

    assert count() == 3
    assert count("--code", "pasta") == 0
    assert count("--since", "2026-09-08") == 2
    assert count("--since", "2026-09-08", "--until", "2026-09-09") == 1
    assert run(db, "history", "Pizza Place", "--code", "NOPE").exit_code == 1


def test_export_csv_and_json_to_private_file(db: Path, tmp_path: Path) -> None:
    """CSV and JSON exports carry user code, code and time; files are 0600."""
    out = tmp_path / "out.csv"
    assert run(db, "export", "Pizza Place", "--output", str(out)).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["code"] for r in rows] == ["PIZZA"] * 3 and set(rows[0]) == {
        "user_code",
        "code",
        "at",
    }
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    doc = json.loads(run(db, "export", "Pizza Place", "--format", "json", "--since",
                         "2026-09-09").stdout)  # fmt: skip
    assert len(doc) == 1


def test_large_export_is_chunked(tmp_path: Path) -> None:
    """An export larger than one read chunk returns every row once, in order."""
    db = tmp_path / "smsd.db"
    with Store.open(db) as store:
        store.directory.add_business("Big", now=T0)
        store.directory.add_code(1, "BIG", "ok", now=T0)
        with store.transaction() as tx:
            tx.execute("INSERT INTO people (phone, user_code, created_at)"
                       " VALUES ('+1', 'AAAAAA', ?)",
                       (T0.isoformat(),))  # fmt: skip
            for i in range(1203):
                tx.execute("INSERT INTO requests (person_id, business_id, code_id, at) VALUES"
                           " (1, 1, 1, ?)", ((T0 + timedelta(seconds=i)).isoformat(),))  # fmt: skip
    out = tmp_path / "big.json"
    result = run(db, "export", "Big", "--format", "json", "--output", str(out))
    assert result.exit_code == 0, result.output
    rows = json.loads(out.read_text())
    assert len(rows) == 1203 and rows == sorted(rows, key=lambda r: r["at"])


def test_code_with_dates_is_stored_and_checked(db: Path) -> None:
    """--starts/--ends are stored as UTC; an empty window is a usage error, nothing written."""
    ok = run(
        db,
        "code",
        "add",
        "Pizza Place",
        "XMAS",
        "--reply",
        "Free dessert",
        "--starts",
        "2026-12-01",
        "--ends",
        "2026-12-27",
    )
    assert ok.exit_code == 0, ok.output
    with Store.open(db) as store:
        code = store.directory.get_code("XMAS")
    assert code.starts_at == datetime(2026, 12, 1, tzinfo=UTC)
    assert code.ends_at == datetime(2026, 12, 27, tzinfo=UTC)
    assert not code.is_active(datetime(2026, 12, 28, tzinfo=UTC))
    bad = run(
        db,
        "code",
        "add",
        "Pizza Place",
        "EASTER",
        "--reply",
        "Eggs",
        "--starts",
        "2027-04-01",
        "--ends",
        "2027-03-01",
    )
    assert bad.exit_code == 2
    with Store.open(db) as store:
        assert store.directory.find_code("EASTER") is None
