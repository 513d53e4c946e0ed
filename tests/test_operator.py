"""Operator safety checks on a real store: parts cap, opted-out numbers, repeats, exports."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from smsd.errors import Refused
from smsd.operator import check_parts, check_recipient, check_repeat
from smsd.operator_views import consent_document, preview_broadcast
from smsd.pipeline import process_incoming
from smsd.router import Rules
from smsd.scheduler import queue_broadcast
from smsd.settings import BroadcastPolicy
from store import Store

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
ALICE = "+447700900123"


@pytest.fixture
def store(db_target: str) -> Iterator[Store]:
    """Pizza Co with ALICE opted in."""
    s = Store.open(db_target)
    s.directory.add_business("Pizza Co", now=T0)
    s.directory.add_code("Pizza Co", "PIZZA", "Hot pizza", now=T0)
    text(s, "PIZZA")
    yield s
    s.close()


def text(store: Store, body: str, at: datetime = T0) -> None:
    """ALICE texts `body`, routed."""
    msg = store.inbox.record_incoming(sender=ALICE, sender_type="international", text=body,
                                received_at=at, scts=at)  # fmt: skip
    assert msg is not None and process_incoming(store, msg, at, Rules()) is not None


def test_parts_cap() -> None:
    """20,000 characters is refused (131 parts) with the count; a short text is one part."""
    assert check_parts("hello", 10) == 1
    with pytest.raises(Refused, match="131 parts"):
        check_parts("x" * 20_000, 10)


def test_opted_out_number_needs_force(store: Store) -> None:
    """Before STOP the number may be texted; after, only with force (and the caller audits)."""
    assert check_recipient(store, ALICE, force=False) is False
    text(store, "stop texting me", T0 + timedelta(minutes=1))
    with pytest.raises(Refused, match="--force"):
        check_recipient(store, ALICE, force=False)
    assert check_recipient(store, ALICE, force=True) is True


def test_repeat_broadcast_refused_within_window(store: Store) -> None:
    """The same broadcast again within the window is refused unless forced; other text is fine."""
    pizza = store.directory.get_business("Pizza Co")
    queue_broadcast(store, pizza.id, "Half price", T0, BroadcastPolicy())
    since = T0 - timedelta(hours=24)
    with pytest.raises(Refused):
        check_repeat(store, pizza.id, "Half price", since, force=False)
    check_repeat(store, pizza.id, "Half price", since, force=True)
    check_repeat(store, pizza.id, "Two for one", since, force=False)
    check_repeat(store, pizza.id, "Half price", T0 + timedelta(seconds=1), force=False)


def test_preview_counts_recipients_parts_and_cost(store: Store) -> None:
    """A dry run: one recipient, two parts, priced per part; nothing queued."""
    before = len(store.outbox.list())
    preview = preview_broadcast(store, "Pizza Co", "y" * 200, price_per_part=Decimal("0.05"),
                                currency="GBP")  # fmt: skip
    assert (preview.recipients, preview.parts, preview.cost) == (1, 2, Decimal("0.10"))
    assert len(store.outbox.list()) == before


def test_consent_export_csv_is_formula_safe_and_json_round_trips(store: Store) -> None:
    """Handset text: no formula or raw escape in CSV, escaped in JSON, exact once decoded."""
    text(store, "=HYPERLINK(1) stop\x1b[2J", T0 + timedelta(minutes=1))
    records = store.consent.records()
    table = list(csv.DictReader(io.StringIO(consent_document(records, "csv"))))
    assert [r["kind"] for r in table] == ["in", "out", "out"]
    assert table[-1]["received"] == "'=HYPERLINK(1) stop\\x1b[2J"
    document = consent_document(records, "json")
    assert "\x1b" not in document
    assert json.loads(document)[-1]["received"] == "=HYPERLINK(1) stop\x1b[2J"
