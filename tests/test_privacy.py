"""Privacy promises of docs/PRIVACY.md, each checked on a real database through the CLI."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli.main import cli
from store import OptinDraft, Plan, RequestDraft, Store
from store.business_view import BUSINESS_VIEWS

T0 = datetime(2026, 9, 7, 10, 0, tzinfo=UTC)
PHONES = [f"+4477009001{i:02d}" for i in range(8)]
NAMES = ["Zelda", "Quentin", "Xanthe", "Barnaby", "Ottoline", "Peregrine", "Wilhelmina", "Ignatius"]
SURNAME = "Fothergill"
INJECTIONS = ["'; DROP TABLE people; --", 'x" OR 1=1 --', "Robert'); DROP TABLE requests;--"]


# Light argon2 parameters (conftest.py) so the tests stay fast.
pytestmark = pytest.mark.usefixtures("fast_hashes")


def text_in(store: Store, phone: str, at: datetime, text: str = "PIZZA") -> str:
    """A person texts PIZZA: request + opt-in recorded; returns the user code."""
    incoming = store.inbox.record_incoming(
        sender=phone, sender_type="international", text=text, received_at=at, scts=at
    )
    assert incoming is not None
    plan = Plan(create_person=True, requests=(RequestDraft(1, 1),),
                optins=(OptinDraft("in", 1, "PIZZA"),))  # fmt: skip
    applied = store.routing.apply(incoming, plan, at)
    assert applied.person is not None
    return applied.person.user_code


@pytest.fixture
def db(db_target: str) -> str:
    """Eight people with full profiles who texted PIZZA, two sent broadcasts (Sept 2026)."""
    path = db_target
    with Store.open(path) as store:
        store.directory.add_business("Pizza Place", now=T0)
        store.directory.add_code(1, "PIZZA", "2-for-1", now=T0)
        for i, (phone, name) in enumerate(zip(PHONES, NAMES, strict=True)):
            code = text_in(store, phone, T0 + timedelta(hours=i))
            store.accounts.register_person(
                phone, code, {"first_name": name, "surname": SURNAME, "country": "GB",
                "email": f"{name.lower()}@example.com", "postal_code": "SW1A 1AA",
                "gender": "female" if i % 2 else "male", "age_band": "21-25"},
                password="pass-word-1", actor="op",
            )  # fmt: skip
        out = store.outbox.queue_outgoing(PHONES[0], "Sale", "broadcast", now=T0, business_id=1)
        store.outbox.mark_sent(out, 7, "modem0", T0 + timedelta(minutes=1), parts=2)
    return path


def run(db: Path, *args: str, input: str | None = None, config: Path | None = None) -> Result:
    """Invoke `smsd --db DB ARGS...` as operator 'op'."""
    head = ["--db", str(db)] + ([] if config is None else ["--config", str(config)])
    return CliRunner().invoke(cli, [*head, *args], input=input, env={"USER": "op"})


def business_outputs(db: Path, tmp_path: Path) -> list[str]:
    """Every business-facing output, as JSON and as a table."""
    config = tmp_path / "smsd.toml"
    config.write_text('[billing]\nprice_per_request = "0.05"\nprice_per_broadcast_part = "0.02"\n')
    outputs = []
    for extra in ([], ["--json"]):
        outputs.append(run(db, "history", "Pizza Place", *extra).stdout)
        outputs.append(run(db, "invoice", "create", "Pizza Place", "--month", "2026-09", *extra,
                           config=config).stdout)  # fmt: skip
        outputs.append(run(db, "invoice", "list", *extra).stdout)
        outputs.append(run(db, "company", "show", "Pizza Place", *extra).stdout)
        for by in ("hour", "code", "sector", "age", "gender", "country", "weekday"):
            outputs.append(run(db, "stats", "--by", by, "--min-people", "2", *extra).stdout)
            outputs.append(run(db, "stats", "--company", "Pizza Place", "--by", by,
                               "--min-people", "2", *extra).stdout)  # fmt: skip
    for fmt in ("csv", "json"):
        outputs.append(run(db, "export", "Pizza Place", "--format", fmt).stdout)
    return outputs


def test_business_outputs_never_show_phone_or_name(db: Path, tmp_path: Path) -> None:
    """History, stats, export, invoice, company show: no phone, name, email or digits of one."""
    outputs = business_outputs(db, tmp_path)
    assert all(outputs), "every command printed something"
    blob = "\n".join(outputs)
    assert "PIZZA" in blob and "INV-2026-09-0001" in blob
    for secret in [*PHONES, *[p[3:] for p in PHONES], *NAMES, SURNAME, "example.com"]:
        assert secret not in blob, secret


def test_business_views_have_no_personal_columns(db: Path) -> None:
    """The views business queries read carry no phone, name, email or text column."""
    forbidden = {"phone", "sender", "recipient", "first_name", "surname", "email", "text",
                 "raw_pdu", "postal_code", "imei", "password_hash"}  # fmt: skip
    with Store.open(db) as store:
        for view in BUSINESS_VIEWS:
            cur = store.db.conn.execute(f"SELECT * FROM {view} LIMIT 0")
            columns = {d[0] for d in cur.description}
            assert columns and not columns & forbidden, (view, columns & forbidden)


def test_injection_through_args_and_text_is_inert(db: Path) -> None:
    """SQL in CLI arguments and in stored message text changes nothing but data."""
    with Store.open(db) as store:
        for i, evil in enumerate(INJECTIONS):
            text_in(store, f"+4477009009{i:02d}", T0 + timedelta(days=1), text=evil)
    for evil in INJECTIONS:
        assert run(db, "history", evil).exit_code == 1
        assert run(db, "user", "show", evil).exit_code == 1
        assert run(db, "company", "add", evil).exit_code == 0
        assert run(db, "stats", "--company", evil).exit_code == 0
        assert run(db, "user", "update", evil, "--surname", evil).exit_code == 1
        assert run(db, "send", "+447700900123", evil).exit_code == 0
    assert run(db, "code", "add", INJECTIONS[0], "EVIL", "--reply", INJECTIONS[1]).exit_code == 0
    with Store.open(db) as store:
        counts = {t: store.db.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("people", "requests", "businesses", "incoming")}  # fmt: skip
        names = {r.name for r in store.directory.list_businesses()}
    assert counts == {"people": 11, "requests": 11, "businesses": 4, "incoming": 11}
    assert set(INJECTIONS) < names


def test_files_are_private_including_backup(db: Path, tmp_path: Path) -> None:
    """The database, its WAL/SHM and a backup are all 0600; the backup is consistent."""
    if str(db).startswith("postgresql://"):
        pytest.skip("SQLite files; PostgreSQL is backed up with its own tools")
    copy = tmp_path / "backup.db"
    result = run(db, "backup", str(copy))
    assert result.exit_code == 0, result.output
    for path in (Path(db), Path(f"{db}-wal"), Path(f"{db}-shm"), copy):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    with Store.open(copy) as restored:
        assert len(restored.routing.history("Pizza Place")) == 8
    for path in tmp_path.glob("backup.db*"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert run(db, "backup", str(copy)).exit_code == 1, "never overwrites"


def test_disclose_writes_file_and_audit(db: Path, tmp_path: Path) -> None:
    """`disclose` exports the dossier to a 0600 file and records actor, time and reason."""
    out = tmp_path / "sar.json"
    result = run(db, "disclose", PHONES[2], "--reason", "SAR 17", "--output", str(out))
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["profile"]["first_name"] == NAMES[2] and doc["profile"]["phone"] == PHONES[2]
    assert "password_hash" not in out.read_text()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    audit = json.loads(run(db, "audit", "--json").stdout)
    assert audit[-1]["action"] == "disclose" and audit[-1]["reason"] == "SAR 17"
    assert audit[-1]["actor"] == "op" and audit[-1]["subject"] == doc["profile"]["user_code"]


def test_every_personal_data_action_is_audited(db: Path, tmp_path: Path) -> None:
    """user show, user update, erase, disclose and export each leave an audit row."""
    code = json.loads(run(db, "user", "show", PHONES[1], "--json").stdout)["summary"]["user_code"]
    run(db, "user", "update", code, "--gender", "other")
    run(db, "disclose", code, "--reason", "police request 9")
    run(db, "export", "Pizza Place", "--format", "json")
    run(db, "user", "erase", code, "--reason", "asked", "--yes")
    actions = [e["action"] for e in json.loads(run(db, "audit", "--json").stdout)]
    assert actions[-5:] == ["user_show", "user_update", "disclose", "export", "user_erase"]
