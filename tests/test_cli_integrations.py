"""`smsd token`, `smsd webhook` and `smsd metrics` through Click's runner on a real file."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner, Result
from prometheus_client.parser import text_string_to_metric_families

from cli.main import cli
from smsd.pipeline import process_incoming
from smsd.router import Rules
from store.store import Store
from store.tokens import token_hash


def _db(target: Path | str) -> Path | str:
    """Pizza Place with PIZZA in `target` (a SQLite path, or a PostgreSQL URL)."""
    path = target / "cli.db" if isinstance(target, Path) else target
    with Store.open(path) as store:
        store.directory.add_business("Pizza Place")
        store.directory.add_code("Pizza Place", "PIZZA", "ok {user_code}")
    return path


def _run(db: Path | str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", str(db), *args])


def test_token_create_shows_once_stores_hash_and_revokes(tmp_path: Path) -> None:
    """The token is printed once, only its hash is stored, list hides it, revoke ends it."""
    db = _db(tmp_path)
    made = _run(db, "token", "create", "Pizza Place", "--scope", "write")
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip()
    assert secret.startswith("smsa_") and len(secret) >= 45
    assert isinstance(db, Path)
    raw = db.read_bytes()
    assert secret.encode() not in raw
    listed = _run(db, "token", "list", "--json")
    assert secret not in listed.stdout and secret[9:20] not in listed.stdout
    (row,) = json.loads(listed.stdout)
    assert (row["scope"], row["business"], row["revoked_at"]) == ("write", "Pizza Place", None)
    with Store.open(db) as store:
        assert store.tokens.authenticate(secret, now=datetime.now(UTC)) is not None
        assert store.db.conn.execute("SELECT token_hash FROM api_tokens").fetchone() == (
            token_hash(secret),
        )
    assert _run(db, "token", "revoke", str(row["id"])).exit_code == 0
    with Store.open(db) as store:
        assert store.tokens.authenticate(secret, now=datetime.now(UTC)) is None
    assert _run(db, "token", "revoke", str(row["id"])).exit_code == 1
    operator = _run(db, "token", "create", "--operator", "--json")
    assert json.loads(operator.stdout)["scope"] == "operator"
    assert _run(db, "token", "create").exit_code == 1
    assert _run(db, "token", "create", "Nobody").exit_code == 1


def test_webhook_add_list_remove_retry(db_target: str) -> None:
    """add prints the secret once; list counts deliveries; bad URLs and ids are one-line errors
    (on each backend)."""
    db = _db(db_target)
    added = _run(db, "webhook", "add", "Pizza Place", "http://127.0.0.1:9/hook")
    assert added.exit_code == 0 and added.stdout.startswith("whsec_")
    assert _run(db, "webhook", "add", "--operator", "https://ops.example/h").exit_code == 0
    bad = _run(db, "webhook", "add", "Pizza Place", "ftp://x")
    assert bad.exit_code == 1 and "http(s)" in bad.stderr
    now = datetime.now(UTC)
    with Store.open(db) as store:
        msg = store.inbox.record_incoming(
            sender="+447700900123", sender_type="international", text="pizza", received_at=now
        )
        assert msg is not None
        process_incoming(store, msg, now, Rules())
    hooks = json.loads(_run(db, "webhook", "list", "--json").stdout)
    assert [(h["business"], h["pending"]) for h in hooks] == [
        ("Pizza Place", 2),
        ("(operator)", 1),
    ]
    assert _run(db, "webhook", "retry", "1").stdout.strip() == "queued 0 deliveries again"
    assert _run(db, "webhook", "remove", "1").exit_code == 0
    assert len(json.loads(_run(db, "webhook", "list", "--json").stdout)) == 1
    assert _run(db, "webhook", "remove", "1").exit_code == 1
    assert len(json.loads(_run(db, "webhook", "list", "--json", "--removed").stdout)) == 2


def test_metrics_textfile_parses_with_counts_from_the_database(
    tmp_path: Path, db_target: str
) -> None:
    """`smsd metrics --textfile` writes Prometheus text with the database's counts (each
    backend: on PostgreSQL too the totals are kept by triggers)."""
    db = _db(db_target)
    now = datetime.now(UTC)
    with Store.open(db) as store:
        store.modems.record_modem_status(
            "modem0", "sim", healthy=True, now=now,
            details={"signal_dbm": -67, "registration": "home"},
        )  # fmt: skip
        for amount in ("50.00", "12.34"):
            store.balances.record_balance(
                "modem0", at=now, text="x", amount=Decimal(amount), currency="GBP"
            )
        store.balances.record_balance(
            "modem0", at=now, text=None, amount=None, currency=None, error="USSD timeout"
        )
        for i in range(3):
            msg = store.inbox.record_incoming(
                sender=f"+44770090012{i}", sender_type="international", text="pizza",
                received_at=now, modem="modem0",
            )  # fmt: skip
            assert msg is not None
            process_incoming(store, msg, now, Rules())
    target = tmp_path / "smsd.prom"
    result = _run(db, "metrics", "--textfile", str(target))
    assert result.exit_code == 0, result.output
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(target.read_text())
        for s in family.samples
    }
    assert samples[("smsd_messages_received_total", (("modem", "modem0"),))] == 3
    assert samples[("smsd_outbox_depth", ())] == 6
    assert samples[("smsd_modem_up", (("modem", "modem0"),))] == 1
    assert samples[("smsd_modem_signal_dbm", (("modem", "modem0"),))] == -67
    assert samples[("smsd_modem_registered", (("modem", "modem0"),))] == 1
    assert samples[("smsd_route_latency_seconds_gcount", ())] == 3
    assert samples[("smsd_webhook_backlog", ())] == 0
    assert samples[("smsd_modem_balance", (("modem", "modem0"),))] == 12.34
    printed = text_string_to_metric_families(_run(db, "metrics").stdout)
    assert {f.name for f in printed} == {f.name for f in text_string_to_metric_families(
        target.read_text())}  # fmt: skip


def test_grafana_dashboard_uses_only_metrics_we_export(tmp_path: Path) -> None:
    """Every smsd_* series the dashboard queries is one `smsd metrics` prints."""
    import re

    db = _db(tmp_path)
    with Store.open(db) as store:
        store.modems.record_modem_status("modem0", "sim", healthy=True, now=datetime.now(UTC))
    hist = ("_bucket", "_gcount", "_gsum")
    suffixes = {"counter": ("_total",), "gaugehistogram": hist, "histogram": hist}
    exported = {
        family.name + suffix
        for family in text_string_to_metric_families(_run(db, "metrics").stdout)
        for suffix in suffixes.get(family.type, ("",))
    }
    dashboard = (Path(__file__).parent.parent / "docs" / "grafana-smsd.json").read_text()
    used = set(re.findall(r"smsd_[a-z_]+", dashboard))
    assert used and used <= exported, used - exported
