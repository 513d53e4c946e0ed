"""`smsd user ...` through CliRunner against a real SQLite file."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli.main import cli
from store import OptinDraft, Plan, RequestDraft, Store
from store.errors import Conflict
from store.passwords import HashParameters, use_parameters

T0 = datetime(2026, 10, 5, 9, 30, tzinfo=UTC)
PHONE = "+447700900123"
PROFILE = ["--first-name", "Ann", "--surname", "Lee", "--email", "ann@example.com",
           "--postal-code", "sw1a 1aa"]  # fmt: skip


# Light argon2 parameters (conftest.py) so the tests stay fast.
pytestmark = pytest.mark.usefixtures("fast_hashes")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A migrated database with one business, one code and one person who texted it."""
    path = tmp_path / "smsd.db"
    with Store.open(path) as store:
        biz = store.directory.add_business("Pizza Place", now=T0)
        code = store.directory.add_code(biz.id, "PIZZA", "2-for-1", now=T0)
        seed(store, PHONE, code.id, biz.id)
    return path


def seed(store: Store, phone: str, code_id: int, business_id: int, at: datetime = T0) -> str:
    """Record a text from `phone` and apply a request + opt-in; return the user code."""
    incoming = store.inbox.record_incoming(
        sender=phone, sender_type="international", text="PIZZA", received_at=at,
        scts=at, raw_pdu="07914477", concat=None,
    )  # fmt: skip
    assert incoming is not None
    plan = Plan(
        create_person=True,
        requests=(RequestDraft(code_id, business_id),),
        optins=(OptinDraft("in", business_id, "PIZZA"),),
    )
    applied = store.routing.apply(incoming, plan, at)
    store.outbox.queue_outgoing(
        phone, "your code", "reply", now=at, person_id=applied.person.id if applied.person else None
    )
    assert applied.person is not None
    return applied.person.user_code


def code_of(db: Path, phone: str = PHONE) -> str:
    """The user code of the person with `phone`."""
    with Store.open(db) as store:
        person = store.directory.find_person(phone)
        assert person is not None
        return person.user_code


def run(db: Path, *args: str, input: str | None = None) -> Result:
    """Invoke `smsd --db DB ARGS...`."""
    return CliRunner().invoke(cli, ["--db", str(db), *args], input=input, env={"USER": "op"})


def test_register_saves_profile_with_prompted_password(db: Path) -> None:
    """A matching phone and code saves the profile and a hash of the prompted password."""
    code = code_of(db)
    result = run(db, "user", "register", "07700 900123", "--code", code, *PROFILE,
                 input="s3cret-pass\ns3cret-pass\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    with Store.open(db) as store:
        profile = store.accounts.person_profile(code)
        assert (profile.first_name, profile.postal_code) == ("Ann", "SW1A 1AA")
        assert profile.password_set and profile.registered_at is not None
        assert store.accounts.check_person_password(code, "s3cret-pass")
        assert "s3cret-pass" not in str(store.db.conn.execute("SELECT * FROM people").fetchall())


def test_register_refuses_a_registered_person(db: Path) -> None:
    """A second registration is refused (pointing to `user update`); profile and hash stay."""
    code = code_of(db)
    first = run(db, "user", "register", PHONE, "--code", code, *PROFILE, "--password-stdin",
                input="first-pass\n")  # fmt: skip
    assert first.exit_code == 0, first.output
    again = ["--first-name", "Eve", *PROFILE[2:]]
    result = run(db, "user", "register", PHONE, "--code", code, *again, "--password-stdin",
                 input="evil-pass\n")  # fmt: skip
    assert result.exit_code == 1
    assert "already registered" in result.stderr and "user update" in result.stderr
    assert result.stderr.count("\n") == 1
    with Store.open(db) as store:
        assert store.accounts.person_profile(code).first_name == "Ann"
        assert store.accounts.check_person_password(code, "first-pass")
        with pytest.raises(Conflict, match="already registered"):
            store.accounts.register_person(
                PHONE, code, {"first_name": "Eve", "surname": "X", "email": "e@x.co",
                              "postal_code": "SW1A 1AA"}, actor="op",
            )  # fmt: skip


def test_register_refuses_a_code_of_another_phone(db: Path) -> None:
    """The texted code must belong to the phone; otherwise exit 1 and nothing is written."""
    code = code_of(db)
    result = run(db, "user", "register", "+447700900999", "--code", code, *PROFILE,
                 "--password-stdin", input="s3cret-pass\n")  # fmt: skip
    assert result.exit_code == 1
    assert "not sent to that phone" in result.stderr
    with Store.open(db) as store:
        assert store.accounts.person_profile(code).first_name is None


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--email", "not-an-email", "email"),
        ("--imei", "490154203237519", "imei"),
        ("--age-band", "12-15", "age_band"),
        ("--country", "XX", "country"),
    ],
)
def test_register_rejects_bad_values_in_one_line(
    db: Path, option: str, value: str, message: str
) -> None:
    """A bad field gives one error line naming it, exit 1, and no partial write."""
    code = code_of(db)
    args = [*PROFILE, option, value] if option != "--email" else [*PROFILE[:4], option, value,
                                                                  *PROFILE[6:]]  # fmt: skip
    result = run(db, "user", "register", PHONE, "--code", code, *args, "--password-stdin",
                 input="s3cret-pass\n")  # fmt: skip
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1 and message in result.stderr
    with Store.open(db) as store:
        assert store.accounts.person_profile(code).first_name is None


def test_update_changes_fields_and_is_audited(db: Path) -> None:
    """`user update` changes only the given fields and records who did it."""
    code = code_of(db)
    result = run(db, "user", "update", code, "--imei", "490154203237518", "--gender", "Female",
                 "--reason", "phone call")  # fmt: skip
    assert result.exit_code == 0, result.output
    with Store.open(db) as store:
        profile = store.accounts.person_profile(code)
        assert (profile.imei, profile.gender) == ("490154203237518", "female")
        assert [(a.actor, a.action, a.reason) for a in store.audit.list_audit(subject=code)] == [
            ("op", "user_update", "phone call; changed gender,imei")
        ]


def test_update_unknown_code_exits_1(db: Path) -> None:
    """An unknown user code is a one-line user error."""
    result = run(db, "user", "update", "ZZZZZZ", "--email", "a@b.co")
    assert result.exit_code == 1 and "no person" in result.stderr


def test_login_check_verifies_and_rehashes(db: Path) -> None:
    """Right password exits 0, wrong exits 1; a hash with old parameters is upgraded."""
    code = code_of(db)
    run(db, "user", "update", code, "--password-stdin", input="first-pass\n")
    with Store.open(db) as store:
        old_hash = store.db.conn.execute("SELECT password_hash FROM people").fetchone()[0]
    assert (
        run(db, "user", "login-check", code, "--password-stdin", input="wrong-pass\n").exit_code
        == 1
    )
    use_parameters(HashParameters(time_cost=2, memory_cost_kib=16, parallelism=1))
    ok = run(db, "user", "login-check", code, "--password-stdin", input="first-pass\n")
    assert ok.exit_code == 0, ok.output
    with Store.open(db) as store:
        new_hash = store.db.conn.execute("SELECT password_hash FROM people").fetchone()[0]
    assert new_hash != old_hash and "t=2" in new_hash


def test_show_json_summary_and_audit(db: Path) -> None:
    """`user show --json` gives businesses, codes and patterns, and is audited."""
    code = code_of(db)
    result = run(db, "user", "show", PHONE, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    summary = doc["summary"]
    assert summary["codes"][0]["code"] == "PIZZA" and summary["codes"][0]["requests"] == 1
    assert summary["businesses"][0]["status"] == "in"
    assert summary["hours"] == {"09": 1} and summary["weekdays"] == {"Mon": 1}
    with Store.open(db) as store:
        assert [a.action for a in store.audit.list_audit(subject=code)] == ["user_show"]


def test_show_all_includes_everything(db: Path) -> None:
    """`--all` adds the profile, incoming and outgoing texts and the ledger."""
    result = run(db, "user", "show", code_of(db), "--all", "--json")
    doc = json.loads(result.stdout)
    assert doc["profile"]["phone"] == PHONE
    assert doc["incoming"][0]["text"] == "PIZZA"
    assert doc["outgoing"][0]["recipient"] == PHONE
    assert doc["ledger"][0]["business"] == "Pizza Place"
    table = run(db, "user", "show", code_of(db), "--all")
    assert table.exit_code == 0 and "incoming texts: 1" in table.stdout


def test_erase_removes_number_everywhere_and_keeps_history(db: Path) -> None:
    """After erase the phone is nowhere in the file; history stays under the code."""
    code = code_of(db)
    run(db, "user", "update", code, "--first-name", "Ann", "--password-stdin", input="pass-word\n")
    result = run(db, "user", "erase", code, "--reason", "asked by email", "--yes")
    assert result.exit_code == 0, result.output
    with Store.open(db) as store:
        dump = "\n".join(store.db.conn.iterdump())
        assert PHONE not in dump and "Ann" not in dump
        assert [r.user_code for r in store.routing.history("Pizza Place")] == [code]
        assert store.audit.list_audit(subject=code)[-1].action == "user_erase"
        fresh = seed(store, PHONE, 1, 1, datetime(2026, 10, 6, tzinfo=UTC))
    assert fresh != code


def test_erase_needs_reason(db: Path) -> None:
    """`--reason` is required (usage error, exit 2)."""
    assert run(db, "user", "erase", code_of(db), "--yes").exit_code == 2
