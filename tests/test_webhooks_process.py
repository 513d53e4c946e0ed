"""Webhooks across processes: the deliverer killed mid-delivery; the daemon end to end."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from test_webhooks import readme_verify

from modem.sim import SimModem
from smsd.testing import Receiver, WebProcess, make_db, running_daemon, wait_until
from store.store import Store

FAST = {
    "SMSD_WEBHOOKS_RETRY_BASE_S": "0.05",
    "SMSD_WEBHOOKS_POLL_S": "0.02",
    "SMSD_WEBHOOKS_LEASE_S": "1",
}
HANDSET = "+447700900123"


def _states(db: Path) -> list[str]:
    with Store.open(db) as store:
        return [d["state"] for d in store.events.deliveries()]


def test_killing_the_deliverer_mid_delivery_loses_no_event(tmp_path: Path) -> None:
    """SIGKILL while receivers hold requests; the next process delivers every event."""
    db = make_db(tmp_path / "kill.db")
    with Receiver(hold=True) as receiver:
        with Store.open(db) as store:
            store.webhooks.add(None, receiver.url, now=datetime.now(UTC))
            for i in range(6):
                store.modems.record_modem_status(
                    "modem0", "sim", healthy=i % 2 == 0, now=datetime.now(UTC)
                )
        first = WebProcess(db, FAST)
        with first:
            receiver.wait_for(6)  # all six are in flight, none answered yet
            first.kill()
        assert _states(db) == ["pending"] * 6
        receiver.release.set()
        with WebProcess(db, FAST):
            wait_until(lambda: _states(db) == ["delivered"] * 6, 30, "all delivered")
        got = receiver.requests
    with Store.open(db) as store:
        uids = {"msg_" + d["uid"] for d in store.events.deliveries()}
    assert {r.headers["webhook-id"] for r in got} == uids  # every event, at least once
    assert len(got) >= 12  # each was sent before the kill and again after it


def test_handset_pizza_reaches_the_business_receiver(
    tmp_path: Path, sim: SimModem, db_target: str
) -> None:
    """A handset texts PIZZA to the running daemon; `smsd web` delivers request.created to the
    business's receiver, signed, with the user code and no number (on each backend: on
    PostgreSQL the event comes from migration 021's trigger)."""
    db = make_db(db_target)  # type: ignore[arg-type]  # a path or a postgresql:// URL
    with Receiver() as receiver:
        with Store.open(db) as store:
            _, secret = store.webhooks.add("Pizza Place", receiver.url, now=datetime.now(UTC))
        with running_daemon(tmp_path, db, [sim.link]), WebProcess(db, FAST) as web:
            with urllib.request.urlopen(web.base + "/", timeout=5) as portal:  # noqa: S310
                assert portal.status == 200  # the portal and the API are one `smsd web`
            sim.deliver(HANDSET, "PIZZA")
            receiver.wait_for(2)
    with Store.open(db) as store:
        person = store.directory.find_person(HANDSET)
    assert person is not None
    by_type = {json.loads(r.body)["type"]: r for r in receiver.requests}
    signed = by_type["request.created"]
    assert readme_verify()(secret, signed.headers, signed.body)
    created = json.loads(signed.body)["data"]
    assert created["user_code"] == person.user_code and created["code"] == "PIZZA"
    by_type = {json.loads(r.body)["type"]: json.loads(r.body) for r in receiver.requests}
    assert by_type["optin.changed"]["data"]["state"] == "in"
    for r in receiver.requests:
        assert HANDSET[1:].encode() not in r.body and b"PIZZA " not in r.body


def test_a_low_balance_reaches_the_operator_receiver(tmp_path: Path) -> None:
    """The daemon reads a balance under [modem] balance_low: the operator gets balance.low."""
    from modem.sim import SimModem
    from smsd.testing import write_config

    db = make_db(tmp_path / "balance.db")
    config = write_config(tmp_path / "smsd.toml", db, [])
    config.write_text(config.read_text() + '\n[modem]\nbalance_ussd = "*100#"\nbalance_low = 20\n')
    with Receiver() as receiver:
        with Store.open(db) as store:
            store.webhooks.add(None, receiver.url, now=datetime.now(UTC))
        with (
            SimModem("huawei", noise=False, link=str(tmp_path / "sim0")) as sim,
            running_daemon(tmp_path, db, [sim.link], extra=["--config", str(config)]),
            WebProcess(db, FAST),
        ):
            wait_until(
                lambda: any(b"balance.low" in r.body for r in receiver.requests), 30, "balance.low"
            )
            got = list(receiver.requests)
    by_type = {json.loads(r.body)["type"]: json.loads(r.body)["data"] for r in got}
    assert by_type["balance.low"]["amount"] == "12.34"
    assert by_type["balance.low"]["low"] == "20"
    assert by_type["balance.low"]["modem"] == "modem0"


def test_the_standalone_server_serves_and_delivers(tmp_path: Path) -> None:
    """`python -m smsd.integrations` (hosts without the portal) serves the API and delivers."""
    db = make_db(tmp_path / "alone.db")
    with Receiver() as receiver:
        with Store.open(db) as store:
            store.webhooks.add(None, receiver.url, now=datetime.now(UTC))
        with WebProcess(db, FAST, portal=False) as web:
            with Store.open(db) as store:
                store.modems.record_modem_status(
                    "modem0", "sim", healthy=False, now=datetime.now(UTC)
                )
            (got,) = receiver.wait_for(1)
            with urllib.request.urlopen(web.base + "/metrics", timeout=5) as answer:  # noqa: S310
                text = answer.read().decode()
    assert json.loads(got.body)["type"] == "modem.down"
    assert 'smsd_modem_up{modem="modem0"} 0.0' in text
