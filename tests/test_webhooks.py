"""Webhook delivery to a real receiver on 127.0.0.1: signatures, retries, parking, scopes."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from smsd.integrations.app import create_app
from smsd.integrations.delivery import next_attempt
from smsd.integrations.settings import IntegrationSettings
from smsd.pipeline import process_incoming
from smsd.router import Rules
from smsd.testing import Receiver, serving, wait_until
from store.events import Delivery, emit
from store.store import Store

ROOT = Path(__file__).resolve().parent.parent
FAST = IntegrationSettings(retry_base_s=0.05, poll_s=0.02, timeout_s=5.0, lease_s=0.3)
HANDSET = "+447700900123"


def readme_verify() -> Callable[[str, dict[str, str], bytes], bool]:
    """The receiver's recipe exactly as README.md shows it."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```python\n(# verify a smsactive webhook\n.*?)```", text, re.S)
    assert block is not None, "README lost its verification recipe"
    scope: dict[str, Any] = {}
    exec(compile(block.group(1), "README.md", "exec"), scope)  # noqa: S102 - our own README
    verify: Callable[[str, dict[str, str], bytes], bool] = scope["verify"]
    return verify


def _text(db: str, phone: str, text: str) -> None:
    now = datetime.now(UTC)
    with Store.open(db) as store:
        msg = store.inbox.record_incoming(
            sender=phone, sender_type="international", text=text, received_at=now, scts=now
        )
        assert msg is not None
        process_incoming(store, msg, now, Rules())


@pytest.fixture
def db(db_target: str) -> str:
    """Pizza Place with PIZZA, Coffee Corner with COFFEE, on each backend."""
    path = db_target
    with Store.open(path) as store:
        store.directory.add_business("Pizza Place")
        store.directory.add_code("Pizza Place", "PIZZA", "Pizza {user_code}")
        store.directory.add_business("Coffee Corner")
        store.directory.add_code("Coffee Corner", "COFFEE", "Coffee")
    return path


def _hook(db: str, business: str | None, url: str) -> str:
    with Store.open(db) as store:
        return store.webhooks.add(business, url, now=datetime.now(UTC))[1]


def _deliveries(db: str) -> list[dict[str, Any]]:
    with Store.open(db) as store:
        return store.events.deliveries()


@pytest.fixture
def web(db: str) -> Iterator[str]:
    """The integrations app with a fast deliverer, served on 127.0.0.1."""
    with serving(create_app(str(db), settings=FAST)) as base:
        yield base


def test_signature_verifies_with_the_readme_recipe(db: str) -> None:
    """A request.created delivery verifies with README's code; a changed body does not."""
    verify = readme_verify()
    with Receiver() as receiver:
        secret = _hook(db, "Pizza Place", receiver.url)
        with serving(create_app(str(db), settings=FAST)):
            _text(db, HANDSET, "pizza")
            got = receiver.wait_for(2)
    by_type = {json.loads(r.body)["type"]: r for r in got}
    assert set(by_type) == {"request.created", "optin.changed"}
    request = by_type["request.created"]
    assert verify(secret, request.headers, request.body)
    assert not verify(secret, request.headers, request.body.replace(b"PIZZA", b"PASTA"))
    assert not verify(_hook(db, "Pizza Place", receiver.url), request.headers, request.body)
    data = json.loads(request.body)["data"]
    assert data["code"] == "PIZZA" and len(data["user_code"]) == 6
    assert request.headers["webhook-id"].startswith("msg_")
    assert all(HANDSET.encode() not in r.body and b"pizza" not in r.body for r in got)


def test_three_500s_then_200_is_four_attempts_with_one_id(db: str, web: str) -> None:
    """The receiver answering 500 three times then 200 gets the event four times, one id."""
    with Receiver([500, 500, 500]) as receiver:
        _hook(db, None, receiver.url)
        with Store.open(db) as store:
            store.modems.record_modem_status("modem0", "sim", healthy=True, now=datetime.now(UTC))
        wait_until(lambda: [d["state"] for d in _deliveries(db)] == ["delivered"], 20)
        got = receiver.requests
    assert len(got) == 4
    assert len({r.headers["webhook-id"] for r in got}) == 1
    assert len({r.body for r in got}) == 1  # the same bytes each time
    assert json.loads(got[0].body)["type"] == "modem.up"
    (delivery,) = _deliveries(db)
    assert (delivery["attempts"], delivery["last_status"]) == (4, 200)


def test_parked_after_the_window_and_retried_by_the_operator(db: str) -> None:
    """Failing past max_age parks the delivery as failed; `retry` delivers it."""
    settings = IntegrationSettings(retry_base_s=0.05, poll_s=0.02, max_age_h=0.5 / 3600)
    with Receiver([500] * 1000) as receiver:
        _hook(db, None, receiver.url)
        with serving(create_app(str(db), settings=settings)):
            with Store.open(db) as store:
                emit(store, "balance.low", None, {"modem": "modem0", "balance": 1.5})
            wait_until(lambda: [d["state"] for d in _deliveries(db)] == ["failed"], 20)
            first = len(receiver.requests)
            assert first >= 2
            receiver.statuses.clear()
            with Store.open(db) as store:
                hook = store.webhooks.list()[0]
                assert (hook.failed, hook.pending) == (1, 0)
                assert store.webhooks.retry(hook.id, now=datetime.now(UTC)) == 1
            wait_until(lambda: [d["state"] for d in _deliveries(db)] == ["delivered"], 20)
    ids = {r.headers["webhook-id"] for r in receiver.requests}
    assert len(ids) == 1 and len(receiver.requests) == first + 1


def test_scopes_business_and_operator_events_apart(db: str, web: str) -> None:
    """Each business gets only its events; the operator gets message.* and modem.* only."""
    with Receiver() as pizza, Receiver() as coffee, Receiver() as operator:
        _hook(db, "Pizza Place", pizza.url)
        _hook(db, "Coffee Corner", coffee.url)
        _hook(db, None, operator.url)
        _text(db, HANDSET, "pizza")
        with Store.open(db) as store:
            store.modems.record_modem_status("modem0", "sim", healthy=True, now=datetime.now(UTC))
            store.modems.record_modem_status("modem0", "sim", healthy=False, now=datetime.now(UTC))
        pizza.wait_for(2)
        operator.wait_for(3)
        wait_until(lambda: all(d["state"] == "delivered" for d in _deliveries(db)), 20)
    kinds = {r: sorted(json.loads(x.body)["type"] for x in r.requests)
             for r in (pizza, coffee, operator)}  # fmt: skip
    assert kinds[pizza] == ["optin.changed", "request.created"]
    assert kinds[coffee] == []
    assert kinds[operator] == ["message.received", "modem.down", "modem.up"]
    bodies = b"".join(x.body for r in (pizza, operator) for x in r.requests)
    assert HANDSET.encode() not in bodies and HANDSET[1:].encode() not in bodies


def test_broadcast_finished_when_its_last_message_is_sent(db: str, web: str) -> None:
    """broadcast.finished comes once, after the last broadcast row was sent or failed."""
    for i in range(3):
        _text(db, f"+4477009002{i:02d}", "pizza")
    with Receiver() as receiver:
        _hook(db, "Pizza Place", receiver.url)
        with Store.open(db) as store:
            result = store.broadcasts.broadcast("Pizza Place", "Tonight", now=datetime.now(UTC),
                                     default_cap=100)  # fmt: skip
            first, *rest = result.outgoing_ids
            store.outbox.mark_failed(first, "test")
            for n, outgoing in enumerate(rest):
                assert store.events.deliveries() == []
                store.outbox.mark_sent(outgoing, n, "modem0", datetime.now(UTC))
        (got,) = receiver.wait_for(1)
    body = json.loads(got.body)
    assert body["type"] == "broadcast.finished"
    assert {k: body["data"][k] for k in ("queued", "sent", "failed")} == {
        "queued": 3, "sent": 2, "failed": 1}  # fmt: skip
    assert body["data"]["broadcast_id"] == result.broadcast_id


def test_back_off_meets_the_schedule() -> None:
    """First retry within 10 s, doubling with jitter, never past 24 h, then parked."""
    settings, rng = IntegrationSettings(), random.Random(7)
    start = datetime(2026, 1, 1, tzinfo=UTC)

    def after(attempts: int, now: datetime) -> datetime | None:
        d = Delivery(
            1, "u", "modem.up", None, "{}", start, 1, "http://x", "whsec_", attempts, start
        )
        return next_attempt(d, now, settings, rng)

    first = after(0, start)
    assert first is not None and 5 <= (first - start).total_seconds() <= 7.5
    gaps = []
    for n in range(1, 12):
        due = after(n, start)
        assert due is not None
        gaps.append((due - start).total_seconds())
    assert all(5 * 2**n <= gap <= 7.5 * 2**n for n, gap in enumerate(gaps, start=1))
    end = start + timedelta(hours=24)
    assert after(20, start + timedelta(hours=23)) == end
    assert after(20, end) is None


def test_unreachable_receiver_records_the_error_and_stays_pending(db: str) -> None:
    """A refused connection is a failed attempt with its reason; the delivery stays pending."""
    from smsd.testing import free_socket

    sock = free_socket()  # bound, never listening: connections are refused
    try:
        _hook(db, None, f"http://127.0.0.1:{sock.getsockname()[1]}/hook")
        with serving(create_app(str(db), settings=FAST)):
            with Store.open(db) as store:
                emit(store, "balance.low", None, {"modem": "modem0", "balance": 0.5})
            wait_until(lambda: _deliveries(db)[0]["attempts"] >= 2, 20)
    finally:
        sock.close()
    (delivery,) = _deliveries(db)
    assert delivery["state"] == "pending" and delivery["last_status"] is None
    assert "refused" in str(delivery["last_error"]).lower()


def test_host_app_task_delivers_and_cancelling_it_keeps_work_pending(db: str) -> None:
    """`Integrations.task` (a host app's background task) delivers; cancelled mid-request,
    the delivery in flight stays pending."""
    import asyncio

    from smsd.integrations.app import Integrations

    async def scenario(store: Store, receiver: Receiver) -> None:
        parts = Integrations(store, settings=FAST)
        job = asyncio.create_task(parts.task(None))
        emit(store, "balance.low", None, {"modem": "modem0"})
        await asyncio.to_thread(receiver.wait_for, 1)
        job.cancel()
        with pytest.raises(asyncio.CancelledError):
            await job

    with Receiver(hold=True) as receiver:
        _hook(db, None, receiver.url)
        with Store.open(db) as store:
            asyncio.run(scenario(store, receiver))
            assert [d["state"] for d in store.events.deliveries()] == ["pending"]


def test_two_web_processes_one_deliverer(db: str) -> None:
    """Two apps on one database: the lease lets one deliver (each event once); when it
    stops, the other takes over."""
    with Receiver() as receiver:
        _hook(db, None, receiver.url)
        with serving(create_app(str(db), settings=FAST)) as _second:
            with serving(create_app(str(db), settings=FAST)):
                with Store.open(db) as store:
                    for i in range(20):
                        emit(store, "balance.low", None, {"n": i})
                receiver.wait_for(20)
                wait_until(lambda: _deliveries(db) and all(
                    d["state"] == "delivered" for d in _deliveries(db)), 20)  # fmt: skip
            with Store.open(db) as store:
                emit(store, "balance.low", None, {"n": 20})
            receiver.wait_for(21)
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(ids) == len(set(ids)) == 21


def test_an_idle_deliverer_only_reads(db: str) -> None:
    """With webhooks but nothing due, 20 looks at the queue commit nothing to the database."""
    _hook(db, None, "http://127.0.0.1:9/never")
    app = create_app(str(db), settings=FAST)
    with Store.open(db) as watcher, serving(app):
        stats = app.state.integrations.deliverer.stats
        wait_until(lambda: stats.looks >= 2, 20)
        # On PostgreSQL the version is the cluster's transaction counter, which autovacuum's
        # ANALYZE of another test's database may move too: one quiet window of the three is
        # enough, and a deliverer that writes on every look moves all three.
        quiet = []
        for _ in range(3):
            version = watcher.data_version()
            start = stats.looks
            wait_until(lambda: stats.looks >= start + 20, 20)  # noqa: B023
            quiet.append(watcher.data_version() == version)
            if quiet[-1]:
                break
        assert quiet[-1], quiet
