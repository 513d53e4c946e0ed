"""Invoices: exact decimals, one per business and month, business-safe content."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli.main import cli
from store import InvalidInput, Plan, RequestDraft, Store
from store.invoices import month_bounds

T0 = datetime(2026, 10, 31, 23, 0, tzinfo=UTC)


@pytest.fixture
def db(db_target: str) -> str:
    """Three requests in October 2026 (one on the last evening), one in November; 3 parts sent."""
    path = db_target
    with Store.open(path) as store:
        store.directory.add_business("Pizza Place", now=T0)
        store.directory.add_code(1, "PIZZA", "ok", now=T0)
        for i, at in enumerate([T0 - timedelta(days=3), T0 - timedelta(days=1), T0,
                                T0 + timedelta(hours=1)]):  # fmt: skip
            msg = store.inbox.record_incoming(
                sender=f"+4477009003{i:02d}",
                sender_type="international",
                text="PIZZA",
                received_at=at,
                scts=at,
            )
            assert msg is not None
            store.routing.apply(msg, Plan(create_person=True, requests=(RequestDraft(1, 1),)), at)
        out = store.outbox.queue_outgoing(
            "+447700900300", "Sale", "broadcast", now=T0, business_id=1
        )
        store.outbox.mark_sent(out, 1, "modem0", T0, parts=3)
    return path


def run(db: Path, tmp_path: Path, *args: str) -> Result:
    """`smsd --db --config ARGS` with prices 0.015/req and 0.04/part."""
    config = tmp_path / "smsd.toml"
    config.write_text('[billing]\nprice_per_request = "0.015"\n'
                      'price_per_broadcast_part = "0.04"\ncurrency = "eur"\n')  # fmt: skip
    return CliRunner().invoke(cli, ["--db", str(db), "--config", str(config), *args])


def test_create_bills_month_at_exact_prices(db: Path, tmp_path: Path) -> None:
    """3 requests x 0.015 = 0.05 (half-up), 3 parts x 0.04 = 0.12; total 0.17 EUR."""
    result = run(db, tmp_path, "invoice", "create", "Pizza Place", "--month", "2026-10", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["number"] == "INV-2026-10-0001" and doc["currency"] == "EUR"
    assert [(x["quantity"], x["unit_price"], x["amount"]) for x in doc["lines"]] == [
        (3, "0.015", "0.05"),
        (3, "0.04", "0.12"),
    ]
    assert doc["total"] == "0.17" and doc["created"] is True


def test_rerun_does_not_double_bill(db: Path, tmp_path: Path) -> None:
    """A second create for the same month returns the same invoice; only one row exists."""
    run(db, tmp_path, "invoice", "create", "Pizza Place", "--month", "2026-10")
    again = run(db, tmp_path, "invoice", "create", "Pizza Place", "--month", "2026-10")
    assert again.exit_code == 0 and "already exists" in again.stdout
    listed = json.loads(run(db, tmp_path, "invoice", "list", "--json").stdout)
    assert [i["number"] for i in listed] == ["INV-2026-10-0001"]
    shown = json.loads(run(db, tmp_path, "invoice", "show", "inv-2026-10-0001", "--json").stdout)
    assert shown["total"] == "0.17"


def test_unfinished_month_and_bad_month_refused(db: Path, tmp_path: Path) -> None:
    """The current month cannot be billed yet; a malformed month is a user error."""
    now = datetime.now(UTC)
    assert run(db, tmp_path, "invoice", "create", "Pizza Place", "--month",
               f"{now:%Y-%m}").exit_code == 1  # fmt: skip
    bad = run(db, tmp_path, "invoice", "create", "Pizza Place", "--month", "2026-13")
    assert bad.exit_code == 1 and "YYYY-MM" in bad.stderr
    assert run(db, tmp_path, "invoice", "show", "INV-0").exit_code == 1


def test_month_bounds_wrap_the_year() -> None:
    """December ends at the next January."""
    assert month_bounds("2026-12")[1] == datetime(2027, 1, 1, tzinfo=UTC)
    with pytest.raises(InvalidInput):
        month_bounds("26-1")


def test_store_amounts_are_decimals(db: Path) -> None:
    """The store returns Decimal money, never floats."""
    with Store.open(db) as store:
        inv = store.invoices.create_invoice(
            "Pizza Place",
            "2026-10",
            price_per_request=Decimal("1.10"),
            price_per_broadcast_part=Decimal("0"),
            currency="GBP",
        )
    assert inv.total == Decimal("3.30") and isinstance(inv.lines[0].amount, Decimal)
