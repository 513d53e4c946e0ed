"""`smsd inbox`, `outbox`, `outbox retry` and `send` on a real database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli.main import cli
from store import Store

T0 = datetime(2026, 9, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """One incoming text and one failed outgoing message."""
    path = tmp_path / "smsd.db"
    with Store.open(path) as store:
        store.inbox.record_incoming(
            sender="+447700900500",
            sender_type="international",
            text="HELLO",
            received_at=T0,
            scts=T0,
        )
        out = store.outbox.queue_outgoing("+447700900500", "hi", "reply", now=T0)
        store.outbox.mark_failed(out, "CMS ERROR 500")
    return path


def run(db: Path, *args: str) -> Result:
    """Invoke `smsd --db DB ARGS...`."""
    return CliRunner().invoke(cli, ["--db", str(db), *args])


def test_send_normalises_and_queues_manual(db: Path) -> None:
    """A national number becomes E.164 and a 'manual' row is queued."""
    result = run(db, "send", "07700 900501", "Your table is ready")
    assert result.exit_code == 0, result.output
    rows = json.loads(run(db, "outbox", "--state", "queued", "--json").stdout)
    assert [(r["recipient"], r["kind"], r["text"]) for r in rows] == [
        ("+447700900501", "manual", "Your table is ready")
    ]


def test_send_rejects_bad_number(db: Path) -> None:
    """Not a phone number: exit 1, nothing queued."""
    result = run(db, "send", "12ab", "x")
    assert result.exit_code == 1
    assert json.loads(run(db, "outbox", "--state", "queued", "--json").stdout) == []


def test_retry_requeues_only_failed(db: Path) -> None:
    """A failed message goes back to queued; retrying a queued one is refused."""
    assert run(db, "outbox", "retry", "1").exit_code == 0
    row = json.loads(run(db, "outbox", "--json").stdout)[0]
    assert row["state"] == "queued" and row["error"] is None
    again = run(db, "outbox", "retry", "1")
    assert again.exit_code == 1 and "not failed" in again.stderr
    assert run(db, "outbox", "retry", "99").exit_code == 1


def test_inbox_and_outbox_tables(db: Path) -> None:
    """Operator views list numbers and states."""
    inbox = run(db, "inbox")
    assert inbox.exit_code == 0 and "+447700900500" in inbox.stdout and "HELLO" in inbox.stdout
    doc = json.loads(run(db, "inbox", "--json").stdout)
    assert doc[0]["text"] == "HELLO"
    assert "failed" in run(db, "outbox").stdout
