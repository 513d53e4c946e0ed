"""Pipeline on real SQLite: record, route, write; end-to-end messaging rules."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from smsd.pipeline import process_expired_partials, process_incoming, process_unrouted
from smsd.router import Rules
from store import Store

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
PHONE = "+447700900123"
RULES = Rules(gateway_name="Textline", contact="help@example.org", own_number="+447700900000")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A store with two businesses and a code each."""
    s = Store.open(tmp_path / "smsd.db")
    s.directory.add_business("Pizza Co", now=T0)
    s.directory.add_business("Book Shop", now=T0)
    s.directory.add_code(
        "Pizza Co", "pizza", "Hot pizza! Your code {user_code}", aliases=["pie"], now=T0
    )
    s.directory.add_code("Book Shop", "books", "Read on", now=T0)
    return s


class Phone:
    """Sends texts into the store at increasing times and routes them."""

    def __init__(self, store: Store, number: str = PHONE, kind: str = "international") -> None:
        self.store, self.number, self.kind = store, number, kind
        self.at = T0

    def text(self, body: str | None) -> list[str]:
        """Deliver `body`, route it, and return the texts queued in reply."""
        self.at += timedelta(seconds=1)
        msg = self.store.inbox.record_incoming(
            sender=self.number, sender_type=self.kind, text=body, received_at=self.at, scts=self.at
        )
        assert msg is not None
        done = process_incoming(self.store, msg, self.at, RULES)
        assert done is not None
        return [self.store.outbox.get_outgoing(i).text for i in done.outgoing_ids]


def test_first_contact_gets_user_code_once(store: Store) -> None:
    """User code once, on the first text; a new business confirms the opt-in before its reply."""
    phone = Phone(store)
    first = phone.text("PIZZA")
    person = store.directory.find_person(PHONE)
    assert person is not None
    assert len(first) == 2 and person.user_code in first[0]
    assert first[1] == f"Hot pizza! Your code {person.user_code}"
    second = phone.text("books")
    assert len(second) == 2 and "subscribed" in second[0] and second[1] == "Read on"
    assert phone.text("books") == ["Read on"]
    kinds = [o.kind for o in store.outbox.list()]
    assert kinds.count("user_code") == 1


def test_second_business_no_new_code(store: Store) -> None:
    """Texting a second business records an opt-in there, same person, same code."""
    phone = Phone(store)
    phone.text("PIZZA")
    code = store.directory.find_person(PHONE)
    phone.text("BOOKS")
    assert store.directory.find_person(PHONE) == code
    assert code is not None
    assert store.routing.optin_status(code.id) == {1: True, 2: True}
    assert [r.user_code for r in store.routing.history("Book Shop")] == [code.user_code]


def test_stop_then_code_then_start(store: Store) -> None:
    """STOP opts out of all; a code re-opts into its business; START restores the rest."""
    phone = Phone(store)
    phone.text("PIZZA")
    phone.text("BOOKS")
    person = store.directory.find_person(PHONE)
    assert person is not None
    (confirm,) = phone.text("Stop")
    assert "START" in confirm
    assert store.routing.optin_status(person.id) == {1: False, 2: False}
    phone.text("pie")
    assert store.routing.optin_status(person.id) == {1: True, 2: False}
    phone.text("START")
    assert store.routing.optin_status(person.id) == {1: True, 2: True}


def test_stop_code_only_that_business(store: Store) -> None:
    """STOP BOOKS leaves Pizza Co alone."""
    phone = Phone(store)
    phone.text("PIZZA")
    phone.text("BOOKS")
    (confirm,) = phone.text("STOP books")
    person = store.directory.find_person(PHONE)
    assert person is not None
    assert store.routing.optin_status(person.id) == {1: True, 2: False}
    assert "Book Shop" in confirm


def test_stop_first_contact_no_person(store: Store) -> None:
    """STOP from an unknown number is confirmed but creates nobody."""
    assert len(Phone(store).text("STOP")) == 1
    assert store.directory.find_person(PHONE) is None


def test_alphanumeric_sender_ignored(store: Store) -> None:
    """A text from VODAFONE is stored as ignored with its reason; nothing is queued."""
    phone = Phone(store, "VODAFONE", "alphanumeric")
    assert phone.text("PIZZA") == []
    (row,) = store.inbox.list()
    assert (row.state, row.error) == ("ignored", "alphanumeric_sender")
    assert store.directory.find_person("VODAFONE") is None


def test_own_number_ignored(store: Store) -> None:
    """Our own number never gets an answer."""
    assert Phone(store, "+447700900000").text("PIZZA") == []
    assert store.inbox.list()[0].error == "own_number"


def test_rate_limit_records_without_reply(store: Store) -> None:
    """After 10 replies in an hour, requests are recorded but nothing is sent."""
    phone = Phone(store)
    sent = [phone.text(f"{w} {i}") for i, w in enumerate(["PIZZA", "BOOKS"] * 6)]
    assert sum(len(s) for s in sent) == 10
    assert sent[-1] == []
    assert len(store.routing.history("Pizza Co")) + len(store.routing.history("Book Shop")) == 12


def test_loop_marked_and_logged_once(store: Store) -> None:
    """An auto-responder repeating itself is stopped; the loop is logged once."""
    phone = Phone(store)
    with capture_logs() as logs:
        out = [phone.text("I am away until Monday") for _ in range(5)]
    assert [len(o) for o in out] == [2, 1, 0, 0, 0]
    assert [e["event"] for e in logs].count("loop_detected") == 1
    assert all("away" not in repr(e) and PHONE not in repr(e) for e in logs)


def test_binary_and_empty_ignored(store: Store) -> None:
    """Binary and empty messages are stored, ignored, and answered with nothing."""
    phone = Phone(store)
    assert phone.text(None) == []
    assert phone.text("  ") == []
    assert {m.error for m in store.inbox.list()} == {"binary", "no_keyword"}


def test_process_twice_is_noop(store: Store) -> None:
    """Routing an already routed message does nothing (crash-retry safety)."""
    msg = store.inbox.record_incoming(
        sender=PHONE, sender_type="international", text="PIZZA", received_at=T0, scts=T0
    )
    assert msg is not None
    assert process_incoming(store, msg, T0, RULES) is not None
    assert process_incoming(store, msg, T0, RULES) is None
    assert len(store.outbox.list()) == 2


def test_unrouted_after_crash_processed(store: Store) -> None:
    """A message recorded but not routed before a crash is routed at start."""
    store.inbox.record_incoming(
        sender=PHONE, sender_type="international", text="PIZZA", received_at=T0, scts=T0
    )
    done = process_unrouted(store, T0, RULES)
    assert len(done) == 1 and len(done[0].outgoing_ids) == 2


def test_expired_partial_routed_as_is(store: Store) -> None:
    """An incomplete multipart message is routed after the timeout by what arrived."""
    part = store.inbox.record_incoming(
        sender=PHONE,
        sender_type="international",
        text="pizza with extra ",
        received_at=T0,
        scts=T0,
        concat=(4, 2, 1),
    )
    assert part is not None and process_incoming(store, part, T0, RULES) is None
    done = process_expired_partials(store, T0 + timedelta(hours=2), RULES, timedelta(hours=1))
    assert len(done) == 1
    assert len(store.routing.history("Pizza Co")) == 1


def test_concurrent_first_texts_send_one_code(store: Store) -> None:
    """Two threads routing two first texts from one number send the user code once."""
    ids = [
        store.inbox.record_incoming(
            sender=PHONE,
            sender_type="international",
            text=word,
            received_at=T0,
            scts=T0 + timedelta(seconds=n),
        )
        for n, word in enumerate(["PIZZA", "BOOKS"] * 4)
    ]
    start = threading.Barrier(len(ids))

    def work(incoming_id: int | None) -> None:
        assert incoming_id is not None
        start.wait(timeout=10)
        process_incoming(store, incoming_id, T0, RULES)

    threads = [threading.Thread(target=work, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert [o.kind for o in store.outbox.list()].count("user_code") == 1
    assert store.inbox.unrouted() == []
