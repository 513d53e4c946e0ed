"""Events written by migration 020's triggers, in the transaction of what causes them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from smsd.pipeline import process_incoming
from smsd.router import Rules
from store.errors import InvalidInput, StoreUnavailable
from store.events import emit
from store.store import Store

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
HANDSET = "+447700900123"


@pytest.fixture
def store(db_target: str) -> Any:
    """Pizza Place with PIZZA, on each backend."""
    with Store.open(db_target) as opened:
        opened.directory.add_business("Pizza Place", now=T0)
        opened.directory.add_code("Pizza Place", "PIZZA", "Pizza {user_code}", now=T0)
        yield opened


def _text(store: Store, text: str, now: datetime = T0) -> int:
    msg = store.inbox.record_incoming(
        sender=HANDSET, sender_type="international", text=text, received_at=now, scts=now
    )
    assert msg is not None
    process_incoming(store, msg, now, Rules())
    return msg


def _events(store: Store) -> list[tuple[str, int | None, dict[str, Any]]]:
    rows = store.db.conn.execute("SELECT kind, business_id, payload FROM events ORDER BY id")
    return [(k, b, json.loads(p)) for k, b, p in rows]


def test_nothing_is_recorded_without_a_webhook(store: Store) -> None:
    """With no webhook, routing, reports and modem changes write no event at all."""
    _text(store, "pizza")
    store.modems.record_modem_status("modem0", "sim", healthy=True, now=T0)
    assert _events(store) == []
    assert emit(store, "balance.low", None, {"balance": 1}) == 0


def test_business_events_carry_user_codes_not_numbers(store: Store) -> None:
    """request.created and optin.changed (in, then out by STOP) for the business only."""
    store.webhooks.add("Pizza Place", "http://127.0.0.1:9/h", now=T0)
    _text(store, "pizza")
    _text(store, "STOP", T0 + timedelta(minutes=1))
    code = store.directory.find_person(HANDSET)
    assert code is not None
    got = _events(store)
    assert [(k, b) for k, b, _ in got] == [
        ("request.created", 1), ("optin.changed", 1), ("optin.changed", 1)]  # fmt: skip
    assert got[0][2] == {"request_id": 1, "user_code": code.user_code, "code": "PIZZA",
                         "at": T0.isoformat(timespec="microseconds")}  # fmt: skip
    assert [e[2]["state"] for e in got[1:]] == ["in", "out"]
    assert all(e[2]["channel"] == "sms" for e in got[1:])
    assert HANDSET[1:] not in json.dumps(got)


def test_operator_events_for_messages_reports_and_modems(store: Store) -> None:
    """message.received, message.delivered/failed by status report, modem.up/down."""
    store.webhooks.add(None, "http://127.0.0.1:9/ops", now=T0)
    _text(store, "pizza")
    first, second = (m.id for m in store.outbox.list(limit=10))
    for outgoing, mr in ((first, 7), (second, 8)):
        store.outbox.mark_sent(outgoing, mr, "modem0", T0)
    assert store.outbox.match_status_report("modem0", 7, HANDSET, "delivered", T0) == first
    assert store.outbox.match_status_report("modem0", 8, HANDSET, "failed", T0, 70) == second
    store.modems.record_modem_status("modem0", "sim", healthy=True, now=T0)
    store.modems.record_modem_status("modem0", "sim", healthy=True, now=T0)  # no change
    store.modems.record_modem_status("modem0", "sim", healthy=False, now=T0, error="lost")
    assert [(k, b) for k, b, _ in _events(store)] == [
        ("message.received", None), ("message.delivered", None), ("message.failed", None),
        ("modem.up", None), ("modem.down", None)]  # fmt: skip
    payloads = [p for _, _, p in _events(store)]
    assert payloads[2]["error"] == "status report: failed (TP-ST 70)"
    assert payloads[4] == {"modem": "modem0", "error": "lost",
                           "at": T0.isoformat(timespec="microseconds")}  # fmt: skip
    assert HANDSET[1:] not in json.dumps(payloads) and "pizza" not in json.dumps(payloads)


def test_an_event_is_rolled_back_with_its_cause(store: Store) -> None:
    """A transaction that fails after a request was written leaves no event behind."""
    store.webhooks.add("Pizza Place", "http://127.0.0.1:9/h", now=T0)
    person = store.directory.create_person(HANDSET, T0)
    code = store.directory.get_code("PIZZA")
    with pytest.raises(StoreUnavailable), store.transaction() as db:
        db.execute(
            "INSERT INTO requests (person_id, business_id, code_id, at) VALUES (?, ?, ?, ?)",
            (person.id, code.business_id, code.id, T0.isoformat()),
        )
        assert len(_events(store)) == 1
        raise StoreUnavailable("crash after the request")
    assert _events(store) == []
    assert store.events.backlog().pending == 0


def test_emit_checks_kind_and_scope(store: Store) -> None:
    """emit refuses unknown kinds and a business event without a business (and vice versa)."""
    store.webhooks.add(None, "http://127.0.0.1:9/ops", now=T0)
    with pytest.raises(InvalidInput):
        emit(store, "no.such", None, {})
    with pytest.raises(InvalidInput):
        emit(store, "request.created", None, {})
    with pytest.raises(InvalidInput):
        emit(store, "balance.low", 1, {})
    assert emit(store, "balance.low", None, {"balance": 0.4, "modem": "modem0"}) == 1


def test_removed_webhooks_get_nothing_and_prune_keeps_failures(store: Store) -> None:
    """A removed webhook gets no new deliveries; prune drops only fully delivered events."""
    hook, _ = store.webhooks.add(None, "http://127.0.0.1:9/ops", now=T0)
    other, _ = store.webhooks.add(None, "http://127.0.0.1:9/two", now=T0)
    emit(store, "balance.low", None, {"n": 1})
    store.webhooks.remove(hook.id, now=T0)
    emit(store, "balance.low", None, {"n": 2})
    deliveries = store.events.deliveries()
    assert [d["webhook_id"] for d in deliveries] == [hook.id, other.id, other.id]
    from store.events import Outcome

    store.events.record([Outcome(d["id"], True, 200) for d in deliveries[1:]], T0)
    store.events.record([Outcome(deliveries[0]["id"], False, 500, "HTTP 500")], T0)
    later = datetime.now(UTC) + timedelta(days=8)
    assert store.events.prune(later) == 1  # the second event: delivered everywhere
    assert [d["state"] for d in store.events.deliveries()] == ["failed", "delivered"]


def test_message_counts_match_a_recount(store: Store) -> None:
    """The trigger-kept totals for /metrics equal a full count of the message tables."""
    for i in range(4):
        msg = store.inbox.record_incoming(
            sender=f"+44770090020{i}", sender_type="international", text="pizza",
            received_at=T0, modem=f"modem{i % 2}",
        )  # fmt: skip
        assert msg is not None
        process_incoming(store, msg, T0, Rules())
    sent = store.outbox.list(limit=100)
    for n, m in enumerate(sent):
        store.outbox.mark_sent(m.id, n, f"modem{n % 2}", T0)
    store.outbox.match_status_report("modem0", 0, sent[0].recipient, "delivered", T0)
    store.outbox.match_status_report("modem1", 1, sent[1].recipient, "failed", T0, 70)
    counted = dict(((m, k), n) for m, k, n in store.db.conn.execute("SELECT * FROM message_counts"))
    recount = {
        **{(m, "received"): n for m, n in store.db.conn.execute(
            "SELECT modem, count(*) FROM incoming WHERE state != 'partial' GROUP BY 1")},
        **{(m, "sent"): n for m, n in store.db.conn.execute(
            "SELECT modem, count(*) FROM outgoing WHERE sent_at IS NOT NULL GROUP BY 1")},
        **{(m, s): n for m, s, n in store.db.conn.execute(
            "SELECT modem, state, count(*) FROM outgoing WHERE state IN ('delivered', 'failed')"
            " GROUP BY 1, 2")},
    }  # fmt: skip
    assert counted == recount
    assert counted[("modem0", "received")] == 2 and counted[("modem1", "failed")] == 1


def test_migration_020_seeds_counts_from_existing_rows(
    db_target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database with traffic from before migration 020 starts with the right totals."""
    import store.migrations as migrations

    path = db_target
    before = tuple(m for m in migrations.MIGRATIONS if m[0] < "020")
    with monkeypatch.context() as patch:
        patch.setattr(migrations, "MIGRATIONS", before)
        with Store.open(path) as old:
            old.directory.add_business("Pizza Place", now=T0)
            old.directory.add_code("Pizza Place", "PIZZA", "ok", now=T0)
            for i in range(3):
                msg = old.inbox.record_incoming(
                    sender=f"+44770090030{i}", sender_type="international", text="pizza",
                    received_at=T0, modem="modem0",
                )  # fmt: skip
                assert msg is not None
                process_incoming(old, msg, T0, Rules())
            first = old.outbox.list(limit=1)[0]
            old.outbox.mark_sent(first.id, 1, "modem0", T0)
            assert "message_counts" not in old.db.table_names()
    with Store.open(path) as new:
        counts = dict(
            ((m, k), n) for m, k, n in new.db.conn.execute("SELECT * FROM message_counts")
        )
    assert counts == {("modem0", "received"): 3, ("modem0", "sent"): 1}
