"""``store.balances``: readings per modem, refresh requests and their answers (real SQLite)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from store.store import Store

T0 = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)


def test_latest_reading_per_modem_and_last_success(db_target: str) -> None:
    """latest() is the newest row per modem (errors too); last_success() skips errors."""
    store = Store.open(db_target)
    try:
        b = store.balances
        b.record_balance("m0", at=T0, text="GBP 5.00", amount=Decimal("5.00"), currency="GBP")
        b.record_balance("m1", at=T0, text="x", amount=None, currency=None)
        later = T0 + timedelta(hours=1)
        b.record_balance("m0", at=later, text=None, amount=None, currency=None, error="no answer")
        latest = store.balances.latest()
        assert sorted(latest) == ["m0", "m1"]
        assert latest["m0"].error == "no answer" and latest["m0"].at == later
        success = b.last_success("m0")
        assert success is not None and success.amount == Decimal("5.00")
    finally:
        store.close()


def test_refresh_request_is_answered_once(db_target: str) -> None:
    """A request naming no modem is pending for every modem until one reading answers it."""
    store = Store.open(db_target)
    try:
        b = store.balances
        anyone = b.request(None, T0)
        only_m1 = b.request("m1", T0)
        assert b.pending("m0") == [anyone]
        assert b.pending("m1") == [anyone, only_m1]
        assert b.answer(anyone) is None
        reading = b.record_balance(
            "m0", at=T0, text="t", amount=Decimal("1"), currency=None, answers=[anyone]
        )
        answered = b.answer(anyone)
        assert answered is not None and answered.id == reading and answered.modem == "m0"
        assert b.pending("m1") == [only_m1]
    finally:
        store.close()
