"""Store messaging on real SQLite files: dedupe, multipart, outbox, status reports, history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from store import InvalidInput, NotFound, OptinDraft, Plan, ReplyDraft, RequestDraft, Store

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
PHONE = "+447700900123"


@pytest.fixture
def path(db_target: str) -> str:
    """Where the test database lives (a SQLite file or a PostgreSQL URL)."""
    return db_target


@pytest.fixture
def store(path: str) -> Store:
    """A fresh migrated store."""
    return Store.open(path)


def _record(store: Store, text: str | None = "PIZZA", **kw: object) -> int | None:
    args: dict[str, object] = {
        "sender": PHONE,
        "sender_type": "international",
        "text": text,
        "received_at": T0,
        "scts": T0,
    }
    args.update(kw)
    return store.inbox.record_incoming(**args)  # type: ignore[arg-type]


def test_record_incoming_dedupes(store: Store) -> None:
    """The same message read twice (crash before delete) is stored once."""
    first = _record(store)
    assert first is not None
    assert _record(store, received_at=T0 + timedelta(minutes=5)) is None
    assert [m.id for m in store.inbox.list()] == [first]
    assert store.inbox.get_incoming(first).state == "new"


def test_same_text_different_scts_is_new(store: Store) -> None:
    """A genuinely repeated text (new SCTS) is a new message."""
    assert _record(store) is not None
    assert _record(store, scts=T0 + timedelta(seconds=30)) is not None


def test_multipart_any_order_across_reopen(store: Store, path: str) -> None:
    """Parts arriving 3, 1 (restart) 2 reassemble in order into one new message."""
    parts = {1: "Hello ", 2: "big ", 3: "world"}
    third = _record(store, parts[3], concat=(7, 3, 3))
    assert third is not None and store.inbox.get_incoming(third).state == "partial"
    assert _record(store, parts[1], concat=(7, 3, 1)) is not None
    store.close()
    reopened = Store.open(path)
    assembled = _record(reopened, parts[2], concat=(7, 3, 2))
    assert assembled is not None
    message = reopened.inbox.get_incoming(assembled)
    assert message.text == "Hello big world" and message.state == "new"
    assert [m.id for m in reopened.inbox.list()] == [assembled]
    assert reopened.inbox.unrouted() == [assembled]


def test_multipart_duplicate_part_ignored(store: Store) -> None:
    """A part read twice does not count twice towards completion."""
    _record(store, "a", concat=(9, 2, 1))
    assert _record(store, "a", concat=(9, 2, 1)) is None
    assert store.inbox.unrouted() == []


def test_multipart_groups_by_sender_and_ref(store: Store) -> None:
    """Parts with the same ref from different senders do not mix."""
    _record(store, "mine ", concat=(1, 2, 1))
    _record(store, "theirs", concat=(1, 2, 2), sender="+447700900999")
    assert store.inbox.unrouted() == []


def test_expired_partials_processed_as_is(store: Store) -> None:
    """An incomplete message is released after the timeout with the parts it has."""
    _record(store, "first ", concat=(3, 3, 1))
    _record(store, "third", concat=(3, 3, 3))
    assert store.inbox.expired_partials(T0 + timedelta(minutes=30), timedelta(hours=1)) == []
    ids = store.inbox.expired_partials(T0 + timedelta(hours=2), timedelta(hours=1))
    assert len(ids) == 1
    message = store.inbox.get_incoming(ids[0])
    assert message.text == "first third" and message.state == "new"
    assert message.error == "incomplete: 2 of 3 parts"
    assert store.inbox.expired_partials(T0 + timedelta(hours=3), timedelta(hours=1)) == []


def test_malformed_stored_raw_once(store: Store) -> None:
    """A malformed PDU is kept raw with its reason, and only once."""
    first = store.inbox.record_malformed(raw_pdu="07FFFF", reason="truncated", received_at=T0)
    assert first is not None
    assert (
        store.inbox.record_malformed(raw_pdu="07FFFF", reason="truncated", received_at=T0) is None
    )
    row = store.inbox.get_incoming(first)
    assert (row.state, row.error, row.raw_pdu) == ("malformed", "truncated", "07FFFF")
    assert store.inbox.unrouted() == []


def test_binary_message_dedupes_on_pdu(store: Store) -> None:
    """8-bit messages (text None) dedupe by their raw PDU."""
    assert _record(store, None, raw_pdu="00AB", encoding="8bit") is not None
    assert _record(store, None, raw_pdu="00AB", encoding="8bit") is None


def test_outbox_claim_send_and_order(store: Store) -> None:
    """Due messages are claimed oldest first; future ones wait."""
    a = store.outbox.queue_outgoing(PHONE, "one", "reply", now=T0)
    b = store.outbox.queue_outgoing(PHONE, "two", "reply", now=T0)
    store.outbox.queue_outgoing(PHONE, "later", "reply", now=T0, not_before=T0 + timedelta(hours=1))
    first = store.outbox.claim_next_outgoing("m0", T0)
    second = store.outbox.claim_next_outgoing("m0", T0)
    assert first is not None and second is not None
    assert (first.id, second.id) == (a, b)
    assert first.state == "sending" and first.attempts == 1
    assert store.outbox.claim_next_outgoing("m0", T0) is None
    assert store.outbox.next_due_at() == T0 + timedelta(hours=1)
    store.outbox.mark_sent(a, 17, "m0", T0)
    assert store.outbox.get_outgoing(a).state == "sent"


def test_crash_requeues_claimed(store: Store, path: str) -> None:
    """A row claimed by a process that died is sent again after requeue_stale_claims."""
    out = store.outbox.queue_outgoing(PHONE, "hi", "reply", now=T0)
    assert store.outbox.claim_next_outgoing("m0", T0) is not None
    store.close()
    restarted = Store.open(path)
    assert restarted.outbox.claim_next_outgoing("m0", T0) is None
    assert restarted.outbox.requeue_stale_claims() == 1
    again = restarted.outbox.claim_next_outgoing("m0", T0)
    assert again is not None and again.id == out and again.attempts == 2


def test_retry_later_and_fail(store: Store) -> None:
    """retry_later delays the row; mark_failed ends it."""
    out = store.outbox.queue_outgoing(PHONE, "hi", "reply", now=T0)
    store.outbox.claim_next_outgoing("m0", T0)
    store.outbox.retry_later(out, "CMS 500", T0 + timedelta(minutes=1))
    assert store.outbox.claim_next_outgoing("m0", T0) is None
    assert store.outbox.claim_next_outgoing("m0", T0 + timedelta(minutes=1)) is not None
    store.outbox.mark_failed(out, "gave up")
    row = store.outbox.get_outgoing(out)
    assert (row.state, row.error) == ("failed", "gave up")
    with pytest.raises(NotFound):
        store.outbox.mark_failed(9999, "nope")


def test_status_report_matches_most_recent_after_wrap(store: Store) -> None:
    """TP-MR wraps: a report for mr 5 updates the newest sent row with mr 5."""
    old = store.outbox.queue_outgoing(PHONE, "old", "reply", now=T0)
    new = store.outbox.queue_outgoing(PHONE, "new", "reply", now=T0)
    store.outbox.mark_sent(old, 5, "m0", T0)
    store.outbox.mark_sent(new, 261, "m0", T0 + timedelta(hours=1))  # 261 % 256 == 5
    matched = store.outbox.match_status_report("m0", 5, PHONE, "delivered", T0 + timedelta(hours=2))
    assert matched == new
    assert store.outbox.get_outgoing(new).state == "delivered"
    assert store.outbox.get_outgoing(old).state == "sent"
    assert store.outbox.match_status_report("m0", 6, PHONE, "delivered", T0) is None
    assert store.outbox.match_status_report("m1", 5, PHONE, "delivered", T0) is None


def _routed_request(store: Store, phone: str, keyword: str, at: datetime) -> None:
    msg = store.inbox.record_incoming(
        sender=phone, sender_type="international", text=keyword, received_at=at, scts=at
    )
    assert msg is not None
    code = store.directory.get_code(keyword)
    plan = Plan(
        create_person=True,
        requests=(RequestDraft(code.id, code.business_id),),
        optins=(OptinDraft("in", code.business_id, code.keyword),),
        replies=(ReplyDraft("Your code {user_code}", "user_code"),),
    )
    store.routing.apply(msg, plan, at)


def test_apply_is_one_transaction_and_once(store: Store) -> None:
    """apply writes person, request, opt-in, reply and state; a second apply is a no-op."""
    store.directory.add_business("Pizza Co", now=T0)
    store.directory.add_code("Pizza Co", "pizza", "Hot", now=T0)
    msg = _record(store)
    assert msg is not None
    code = store.directory.get_code("PIZZA")
    plan = Plan(
        create_person=True,
        requests=(RequestDraft(code.id, code.business_id),),
        replies=(ReplyDraft("code {user_code}", "user_code"),),
    )
    applied = store.routing.apply(msg, plan, T0)
    assert applied.person is not None
    assert (
        store.outbox.get_outgoing(applied.outgoing_ids[0]).text
        == f"code {applied.person.user_code}"
    )
    assert store.inbox.get_incoming(msg).state == "routed"
    assert store.routing.apply(msg, plan, T0).skipped


def test_apply_failure_writes_nothing(store: Store) -> None:
    """If apply fails half-way (unknown code id), no person or reply is left behind."""
    msg = _record(store)
    assert msg is not None
    plan = Plan(
        create_person=True,
        requests=(RequestDraft(999, 999),),
        replies=(ReplyDraft("hi", "reply"),),
    )
    with pytest.raises(InvalidInput, match=r"(?i)foreign key"):
        store.routing.apply(msg, plan, T0)
    assert store.directory.find_person(PHONE) is None
    assert store.outbox.list() == []
    assert store.inbox.get_incoming(msg).state == "new"


def test_history_never_contains_phone(store: Store) -> None:
    """Business history has user codes, keywords and times only."""
    store.directory.add_business("Pizza Co", now=T0)
    store.directory.add_code("Pizza Co", "pizza", "Hot", now=T0)
    store.directory.add_code("Pizza Co", "pasta", "Cold", now=T0)
    _routed_request(store, PHONE, "PIZZA", T0)
    _routed_request(store, "+447700900456", "PASTA", T0 + timedelta(hours=1))
    rows = store.routing.history("Pizza Co")
    assert [r.keyword for r in rows] == ["PIZZA", "PASTA"]
    assert "+44" not in repr(rows) and "7700900" not in repr(rows)
    assert [r.keyword for r in store.routing.history("Pizza Co", code="pasta")] == ["PASTA"]
    assert store.routing.history("Pizza Co", since=T0 + timedelta(minutes=1)) == rows[1:]
    assert store.routing.history("Pizza Co", until=T0 + timedelta(minutes=1)) == rows[:1]


def test_optin_status_and_all_out(store: Store) -> None:
    """Opting out of ALL writes an out event for every business currently in."""
    for name in ("A", "B"):
        store.directory.add_business(name, now=T0)
        store.directory.add_code(name, f"code{name}", "hi", now=T0)
    _routed_request(store, PHONE, "CODEA", T0)
    _routed_request(store, PHONE, "CODEB", T0 + timedelta(seconds=1))
    person = store.directory.find_person(PHONE)
    assert person is not None
    assert store.routing.optin_status(person.id) == {1: True, 2: True}
    stop = _record(store, "STOP", scts=T0 + timedelta(minutes=1))
    assert stop is not None
    store.routing.apply(
        stop, Plan(optins=(OptinDraft("out", None, "STOP"),)), T0 + timedelta(minutes=1)
    )
    assert store.routing.optin_status(person.id) == {1: False, 2: False}
    kinds = [e.kind for e in store.routing.person_history(person.user_code)]
    assert kinds.count("out") == 2 and kinds.count("request") == 2


def test_replies_since_counts_replies_only(store: Store) -> None:
    """The rate window counts replies to the number, not broadcasts."""
    store.outbox.queue_outgoing(PHONE, "a", "reply", now=T0)
    store.outbox.queue_outgoing(PHONE, "b", "broadcast", now=T0)
    store.outbox.queue_outgoing(PHONE, "c", "help", now=T0 - timedelta(hours=2))
    assert store.outbox.replies_since(PHONE, T0 - timedelta(hours=1)) == 1
