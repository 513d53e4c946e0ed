"""The event triggers on both backends: the same traffic writes the same events, byte for byte
(SQLite's triggers of migration 020, PostgreSQL's PL/pgSQL of migration 021)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smsd.pipeline import process_incoming
from smsd.router import Rules
from store.events import emit
from store.store import Store

if TYPE_CHECKING:
    from smsd.testing.pgcluster import PgCluster

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
A, B = "+447700900123", "+447700900124"
HOSTILE = 'lost "port"\n\t\\ é 😀 \x01\x1f /'  # every escape JSON has, and some that need none
STAMP = re.compile(r'"at":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00"')


def _text(store: Store, phone: str, text: str, minutes: int) -> None:
    now = T0 + timedelta(minutes=minutes)
    msg = store.inbox.record_incoming(
        sender=phone, sender_type="international", text=text, received_at=now, scts=now,
        modem="modem0",
    )  # fmt: skip
    assert msg is not None
    process_incoming(store, msg, now, Rules())


def _traffic(store: Store) -> None:
    """Every kind of event, with text that needs escaping where a payload carries text."""
    for name, keyword in (("Pizza Place", "PIZZA"), ("Coffee Corner", "COFFEE")):
        store.directory.add_business(name, now=T0)
        store.directory.add_code(name, keyword, f"{keyword} {{user_code}}", now=T0)
    store.webhooks.add("Pizza Place", "http://127.0.0.1:9/pizza", now=T0)
    for n in range(2):  # the operator's events fan out to both
        store.webhooks.add(None, f"http://127.0.0.1:9/ops{n}", now=T0)
    _text(store, A, "pizza", 1)
    _text(store, B, "coffee", 2)  # Coffee Corner has no webhook: only message.received
    _text(store, B, "pizza", 3)
    store.inbox.record_malformed(raw_pdu="00", reason="bad PDU", received_at=T0, modem="modem0")
    for n, m in enumerate(store.outbox.list(limit=100)):
        store.outbox.mark_sent(m.id, n, "modem0", T0 + timedelta(minutes=4))
    first, second = store.outbox.list("sent", limit=2)
    store.outbox.match_status_report("modem0", first.mr or 0, first.recipient, "delivered", T0)
    store.outbox.match_status_report("modem0", second.mr or 0, second.recipient, "failed", T0, 70)
    result = store.broadcasts.broadcast("Pizza Place", "Tonight", now=T0, default_cap=100)
    head, *rest = result.outgoing_ids
    store.outbox.mark_failed(head, "no modem")
    for n, outgoing in enumerate(rest):
        store.outbox.mark_sent(outgoing, 50 + n, "modem0", T0)
    _text(store, A, "STOP", 5)
    person = store.directory.find_person(B)
    assert person is not None
    store.web.web_opt(person.id, 1, "out", now=T0)
    store.modems.record_modem_status('modem"0', "sim", healthy=True, now=T0)
    store.modems.record_modem_status('modem"0', "sim", healthy=False, now=T0, error=HOSTILE)
    emit(store, "balance.low", None, {"modem": HOSTILE, "amount": "1.50"})


def _recorded(target: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(events, deliveries) after `_traffic`; clock-made times and the (random) user codes
    replaced by markers."""
    with Store.open(target) as store:
        _traffic(store)
        codes = {}
        for label, phone in (("<A>", A), ("<B>", B)):
            person = store.directory.find_person(phone)
            assert person is not None
            codes[person.user_code] = label
        events = store.db.execute(
            "SELECT id, uid, kind, business_id, payload, created_at FROM events ORDER BY id"
        ).fetchall()
        deliveries = store.db.execute(
            "SELECT d.event_id, d.webhook_id, d.state, d.next_attempt_at = e.created_at,"
            " d.window_start = e.created_at FROM webhook_deliveries d"
            " JOIN events e ON e.id = d.event_id ORDER BY d.id"
        ).fetchall()
    for _, uid, _, _, _, created in events:
        assert re.fullmatch(r"[0-9a-f]{24}", uid)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", created)
    coded = re.compile("|".join(codes))
    return [
        (i, k, b, coded.sub(lambda m: codes[m[0]], _unclocked(p))) for i, _, k, b, p, _ in events
    ], deliveries


def _unclocked(payload: str) -> str:
    """The payload with a time the trigger took from the clock (a broadcast's end, a failure
    never sent) as `*`; the times the traffic gave (T0 + minutes) stay."""
    given = {f'"at":"{(T0 + timedelta(minutes=m)).isoformat(timespec="microseconds")}"'
             for m in range(6)}  # fmt: skip
    return STAMP.sub(lambda m: m[0] if m[0] in given else '"at":"*"', payload)


def test_the_same_traffic_writes_the_same_events_on_both_backends(
    tmp_path: Path, pg_cluster: PgCluster
) -> None:
    """Every event kind, in the same order, with byte-identical payloads and the same fan-out."""
    lite_events, lite_deliveries = _recorded(str(tmp_path / "lite.db"))
    pg_events, pg_deliveries = _recorded(pg_cluster.fresh_url())
    kinds = [k for _, k, _, _ in lite_events]
    assert set(kinds) == {
        "request.created", "optin.changed", "broadcast.finished", "message.received",
        "message.delivered", "message.failed", "modem.up", "modem.down", "balance.low",
    }  # fmt: skip
    clocked = [(k, '"error":"no modem"' in p) for _, k, _, p in lite_events if '"at":"*"' in p]
    assert sorted(clocked) == [("broadcast.finished", False), ("message.failed", True)]
    assert pg_events == lite_events
    assert pg_deliveries == lite_deliveries
    assert len(lite_deliveries) == sum(1 if b else 2 for _, _, b, _ in lite_events)
    down = next(p for _, k, _, p in lite_events if k == "modem.down")
    assert r'"error":"lost \"port\"\n\t\\ é 😀 \u0001\u001f /"' in down
    assert '"modem":"modem\\"0"' in down
