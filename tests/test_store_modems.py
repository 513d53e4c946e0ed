"""Preferred modems per business and the daemon's modem reports, on a real SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from store.errors import InvalidInput, NotFound
from store.store import Store

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(db_target: str) -> Store:
    """Two businesses, Pizza preferring modem1, one queued message for each."""
    s = Store.open(db_target)
    pizza = s.directory.add_business("Pizza Place")
    coffee = s.directory.add_business("Coffee Corner")
    s.modems.set_business_modem("Pizza Place", "modem1")
    s.outbox.queue_outgoing("+447700900001", "pizza", "reply", now=NOW, business_id=pizza.id)
    s.outbox.queue_outgoing("+447700900002", "coffee", "reply", now=NOW, business_id=coffee.id)
    return s


def test_preferred_modem_gets_its_business(store: Store) -> None:
    """With modem1 up, modem0 may only take Coffee's message; modem1 takes Pizza's."""
    up = {"modem0", "modem1"}
    first = store.outbox.claim_next_outgoing("modem0", NOW, up)
    assert first is not None and first.text == "coffee"
    assert store.outbox.claim_next_outgoing("modem0", NOW, up) is None
    assert store.outbox.next_due_at("modem0", up) is None  # nothing left that modem0 may send
    taken = store.outbox.claim_next_outgoing("modem1", NOW, up)
    assert taken is not None and taken.text == "pizza"


def test_preferred_modem_down_lets_others_send(store: Store) -> None:
    """With modem1 down, modem0 sends Pizza's messages too."""
    texts = {store.outbox.claim_next_outgoing("modem0", NOW, {"modem0"}).text for _ in range(2)}  # type: ignore[union-attr]
    assert texts == {"pizza", "coffee"}


def test_no_health_information_means_no_filter(store: Store) -> None:
    """Callers that pass no healthy set (the CLI, old code) see every due row."""
    assert store.outbox.next_due_at() == NOW
    assert store.outbox.claim_next_outgoing("modem0", NOW) is not None
    assert store.outbox.claim_next_outgoing("modem0", NOW) is not None


def test_business_modem_set_clear_and_errors(store: Store) -> None:
    """The preference can be read, cleared, and is refused for blanks or unknown businesses."""
    assert store.modems.business_modem("Pizza Place") == "modem1"
    store.modems.set_business_modem("Pizza Place", None)
    assert store.modems.business_modem("Pizza Place") is None
    with pytest.raises(InvalidInput):
        store.modems.set_business_modem("Pizza Place", "  ")
    with pytest.raises(NotFound):
        store.modems.set_business_modem("Nobody", "modem0")


def test_modem_status_report_keeps_details_when_down(store: Store) -> None:
    """A modem's details survive a later 'down' report, which only changes health and error."""
    store.modems.record_modem_status(
        "modem0",
        "/dev/x",
        healthy=True,
        now=NOW,
        session=1,
        details={"imei": "490154203237518", "signal_dbm": -71},
    )
    store.modems.record_modem_status("modem0", "/dev/x", healthy=False, now=NOW, error="port lost")
    (report,) = store.modems.modem_statuses()
    assert report["healthy"] is False and report["error"] == "port lost"
    assert report["imei"] == "490154203237518" and report["session"] == 1
