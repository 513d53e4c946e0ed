"""The rules commands on a real database: code update/remove, company policy, broadcast
safety and schedules, polls and the consent export."""

from __future__ import annotations

import csv
import io
import json
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli.main import cli
from smsd.pipeline import process_incoming
from smsd.router import Rules
from store import Store

NOW = datetime.now(UTC)


def run(db: Path, *args: str, input: str | None = None) -> Result:
    """Invoke `smsd --db DB ARGS...` in process."""
    return CliRunner().invoke(cli, ["--db", str(db), *args], input=input)


def text(store: Store, number: str, body: str) -> None:
    """`number` texts `body`, routed as the daemon would."""
    msg = store.inbox.record_incoming(sender=number, sender_type="international", text=body,
                                      received_at=NOW, scts=NOW)  # fmt: skip
    assert msg is not None and process_incoming(store, msg, NOW, Rules()) is not None


@pytest.fixture
def db(db_target: str) -> Iterator[str]:
    """Pizza Place (PIZZA) with two people opted in; Book Shop with no codes."""
    path = db_target
    with Store.open(path) as store:
        store.directory.add_business("Pizza Place")
        store.directory.add_business("Book Shop")
        store.directory.add_code("Pizza Place", "PIZZA", "Hot pizza")
        for i in range(2):
            text(store, f"+44770090010{i}", "PIZZA")
    yield path


@pytest.mark.parametrize(
    ("reply", "error"),
    [("Show {usercode}", "Error: reply: unknown placeholder {usercode}"),
     ("Show {user_code", "Error: reply: unclosed placeholder {user_code")],
)  # fmt: skip
def test_code_add_and_update_check_placeholders(db: Path, reply: str, error: str) -> None:
    """A typo'd or unclosed placeholder is refused at add and at update, one line, exit 1."""
    added = run(db, "code", "add", "Book Shop", "BOOKS", "--reply", reply)
    updated = run(db, "code", "update", "PIZZA", "--reply", reply)
    for result in (added, updated):
        assert result.exit_code == 1 and result.stderr.startswith(error)
        assert result.stderr.count("\n") == 1
    with Store.open(db) as store:
        assert store.directory.get_code("PIZZA").reply == "Hot pizza"


def test_code_update_then_remove_keeps_keyword_taken(db: Path) -> None:
    """update changes reply and aliases; remove retires: unknown to texts, not reusable."""
    result = run(db, "code", "update", "pizza", "--reply", "Cold {code}", "--alias", "PIE")
    assert result.exit_code == 0, result.output
    assert run(db, "code", "remove", "PIZZA", "--reason", "over", "--yes").exit_code == 0
    taken = run(db, "code", "add", "Book Shop", "PIE", "--reply", "x")
    assert taken.exit_code == 1
    with Store.open(db) as store:
        code = store.directory.get_code("PIZZA")
        assert (code.reply, code.aliases, code.is_active(NOW + timedelta(seconds=1))) == (
            "Cold {code}", ("PIE",), False
        )  # fmt: skip
        assert store.audit.list_audit(subject="PIZZA")[-1].action == "code_remove"


def test_company_update_sets_consent_policy(db: Path) -> None:
    """--double-opt-in and --frequency set the business's policy; --single-opt-in undoes it."""
    result = run(db, "company", "update", "Pizza Place", "--double-opt-in", "--frequency", "2/wk")
    assert result.exit_code == 0, result.output
    with Store.open(db) as store:
        policy = store.consent.policy(store.directory.get_business("Pizza Place").id)
        assert (policy.double_opt_in, policy.frequency) == (True, "2/wk")
    run(db, "company", "update", "Pizza Place", "--single-opt-in")
    with Store.open(db) as store:
        assert not store.consent.policy(1).double_opt_in


def test_broadcast_dry_run_confirmation_and_repeat_guard(db: Path) -> None:
    """Dry run queues nothing; "n" at the prompt queues nothing; a repeat needs --force."""
    dry = run(db, "broadcast", "Pizza Place", "Sale", "--dry-run")
    assert dry.exit_code == 0 and "2 recipients, 1 part each" in dry.stdout
    dry_json = json.loads(run(db, "broadcast", "Pizza Place", "Sale", "--dry-run", "--json").stdout)
    assert (dry_json["recipients"], dry_json["parts"], dry_json["cost"]) == (2, 1, "0")
    declined = run(db, "broadcast", "Pizza Place", "Sale", input="n\n")
    assert declined.exit_code == 1
    assert run(db, "broadcast", "Pizza Place", "Sale", input="y\n").exit_code == 0
    again = run(db, "broadcast", "Pizza Place", "Sale", "--yes")
    assert again.exit_code == 1 and "--force" in again.stderr
    assert run(db, "broadcast", "Pizza Place", "Sale", "--yes", "--force").exit_code == 0
    with Store.open(db) as store:
        assert sum(o.kind == "broadcast" for o in store.outbox.list()) == 4


def test_broadcast_schedule_list_cancel(db: Path) -> None:
    """--at/--every make a schedule; list shows it; cancel stops it."""
    at = (NOW + timedelta(days=1)).isoformat(timespec="seconds")
    made = run(db, "broadcast", "Pizza Place", "Lunch", "--at", at, "--every", "weekly", "--yes")
    assert made.exit_code == 0, made.output
    listed = json.loads(run(db, "broadcast", "list", "--json").stdout)
    assert [(s["text"], s["every"]) for s in listed] == [("Lunch", "weekly")]
    assert run(db, "broadcast", "cancel", str(listed[0]["id"])).exit_code == 0
    assert run(db, "broadcast", "list").stdout.strip() == "none scheduled"
    bad = run(db, "broadcast", "Pizza Place", "Lunch", "--at", "tomorrow", "--yes")
    assert bad.exit_code == 2


def test_send_caps_parts(db: Path, tmp_path: Path) -> None:
    """A 20,000-character text is refused with its part count; a short one says 1 part."""
    long = run(db, "send", "+447700900555", "x" * 20_000)
    assert long.exit_code == 1 and "131 parts" in long.stderr
    short = run(db, "send", "+447700900555", "hello")
    assert short.exit_code == 0 and short.stdout.strip().endswith("(1 part)")


def test_poll_create_results_close(db: Path) -> None:
    """A poll by keyword: votes counted once per person, small counts hidden, then closed."""
    made = run(db, "poll", "create", "Pizza Place", "--code", "VOTE", "--options", "a,b")
    assert made.exit_code == 0, made.output
    with Store.open(db) as store:
        for i in range(11):
            text(store, f"+4477009002{i:02d}", "VOTE " + "AB"[i % 2])
    result = json.loads(run(db, "poll", "results", "VOTE", "--json").stdout)
    assert result["counts"] == [["A", 6], ["B", 5]] and result["voters"] == 11
    with Store.open(db) as store:
        text(store, "+447700900201", "VOTE A")  # replaces that person's B: B is now 4
    result = json.loads(run(db, "poll", "results", "VOTE", "--json").stdout)
    assert result["counts"] == [["A", None], ["B", None]] and result["voters"] == 11
    assert run(db, "poll", "close", "VOTE").exit_code == 0
    assert "closed" in run(db, "poll", "results", "VOTE").stdout


def test_consent_export_file_is_private_and_audited(db: Path, tmp_path: Path) -> None:
    """The export goes to a 0600 file, has no phone numbers, and is audited."""
    out = tmp_path / "consent.csv"
    result = run(db, "consent", "export", "--company", "Pizza Place", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["kind"] for r in rows] == ["in", "in"] and "+4477" not in out.read_text()
    assert rows[0]["channel"] == "sms" and rows[0]["received"] == "PIZZA"
    with Store.open(db) as store:
        assert store.audit.list_audit()[-1].action == "consent_export"
