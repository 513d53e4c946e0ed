"""The HTTP API over real HTTP (uvicorn on 127.0.0.1), on a real SQLite file and on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from smsd.integrations.api import Api
from smsd.integrations.app import create_app
from smsd.integrations.openapi import document
from smsd.pipeline import process_incoming
from smsd.router import Rules
from smsd.testing import serving
from store.store import Store

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PHONES = [f"+4477009001{i:02d}" for i in range(12)]


def _text(store: Store, phone: str, text: str, now: datetime) -> None:
    msg = store.inbox.record_incoming(
        sender=phone, sender_type="international", text=text, received_at=now, scts=now
    )
    assert msg is not None
    process_incoming(store, msg, now, Rules(replies_per_hour=1000, loop_threshold=1000))


@pytest.fixture
def world(db_target: str) -> Iterator[dict[str, object]]:
    """Two businesses with requests, one token of each kind, and the API served (each
    backend)."""
    db = db_target
    with Store.open(db) as store:
        store.directory.add_business("Pizza Place", now=T0)
        store.directory.add_code("Pizza Place", "PIZZA", "Pizza {user_code}", now=T0)
        store.directory.add_business("Coffee Corner", now=T0)
        store.directory.add_code("Coffee Corner", "COFFEE", "Coffee", now=T0)
        for i, phone in enumerate(PHONES):
            _text(store, phone, "pizza", T0 + timedelta(minutes=i))
        _text(store, PHONES[0], "coffee", T0 + timedelta(hours=1))
        _text(store, PHONES[1], "STOP", T0 + timedelta(hours=2))
        tokens = store.tokens
        secrets = {
            "pizza_read": tokens.create("Pizza Place", "read", now=T0)[1],
            "pizza_write": tokens.create("Pizza Place", "write", now=T0)[1],
            "coffee_read": tokens.create("Coffee Corner", "read", now=T0)[1],
            "operator": tokens.create(None, "operator", now=T0)[1],
        }
        ids = {b.name: b.id for b in store.directory.list_businesses()}
    with serving(create_app(db, deliver=False)) as base:
        yield {"base": base, "db": db, "tokens": secrets, "ids": ids}


def _get(world: dict[str, object], path: str, token: str | None, **params: str) -> httpx.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return httpx.get(f"{world['base']}/api/v1{path}", headers=headers, params=params)


def _post(
    world: dict[str, object], path: str, token: str, body: object, **headers: str
) -> httpx.Response:
    sent = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", **headers}
    return httpx.post(f"{world['base']}/api/v1{path}", headers=sent, content=json.dumps(body))


def _tok(world: dict[str, object], name: str) -> str:
    tokens = world["tokens"]
    assert isinstance(tokens, dict)
    return str(tokens[name])


def _biz(world: dict[str, object], name: str) -> int:
    ids = world["ids"]
    assert isinstance(ids, dict)
    return int(ids[name])


def _assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, object] = response.json()
    assert body["status"] == status and body["title"] and str(body["type"]).startswith("http")
    return body


def test_history_pages_by_cursor_with_user_codes_only(world: dict[str, object]) -> None:
    """A business token pages its whole history, newest first, and sees no phone number."""
    pizza = _biz(world, "Pizza Place")
    seen: list[dict[str, str]] = []
    cursor: str | None = None
    while True:
        params = {"limit": "5"} if cursor is None else {"limit": "5", "cursor": cursor}
        response = _get(world, f"/businesses/{pizza}/history", _tok(world, "pizza_read"), **params)
        assert response.status_code == 200, response.text
        assert "+4477" not in response.text
        page = response.json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(PHONES)
    assert [r["at"] for r in seen] == sorted((r["at"] for r in seen), reverse=True)
    assert len({r["user_code"] for r in seen}) == len(PHONES)
    assert {r["code"] for r in seen} == {"PIZZA"}
    since = (T0 + timedelta(minutes=10)).isoformat()
    late = _get(world, f"/businesses/{pizza}/history", _tok(world, "pizza_read"), since=since)
    assert len(late.json()["items"]) == 2


def test_other_business_is_refused(world: dict[str, object]) -> None:
    """A business token gets 403 problem documents for another business's resources."""
    coffee = _biz(world, "Coffee Corner")
    for path in ("history", "codes", "stats", "optins", "invoices"):
        got = _get(world, f"/businesses/{coffee}/{path}", _tok(world, "pizza_read"))
        assert _assert_problem(got, 403)["type"] == "https://smsactive.invalid/problems/forbidden"
    got = _post(
        world, f"/businesses/{coffee}/broadcasts", _tok(world, "pizza_write"), {"text": "x"}
    )
    _assert_problem(got, 403)
    own = _get(world, f"/businesses/{coffee}/codes", _tok(world, "coffee_read"))
    assert own.json()["items"] == [{"code": "COFFEE", "paused": False, "requests": 1, "people": 1}]


def test_tokens_missing_unknown_revoked_get_401(world: dict[str, object]) -> None:
    """No token, a made-up token and a revoked token are all 401 with WWW-Authenticate."""
    pizza = _biz(world, "Pizza Place")
    path = f"/businesses/{pizza}/optins"
    assert _get(world, path, _tok(world, "pizza_read")).json() == {"in": 11, "out": 1}
    with Store.open(str(world["db"])) as store:
        tokens = store.tokens
        victim = next(t for t in tokens.list("Pizza Place") if t.scope == "read")
        tokens.revoke(victim.id, now=T0)
        assert tokens.get(victim.id).last_used_at is not None
    for token in (None, "smsa_" + "x" * 43, _tok(world, "pizza_read")):
        got = _get(world, path, token)
        _assert_problem(got, 401)
        assert got.headers["www-authenticate"].startswith("Bearer")


def test_read_scope_cannot_broadcast_and_write_scope_can(world: dict[str, object]) -> None:
    """`read` gets 403 on the broadcast POST; `write` queues to those opted in (202)."""
    pizza = _biz(world, "Pizza Place")
    path = f"/businesses/{pizza}/broadcasts"
    denied = _post(world, path, _tok(world, "pizza_read"), {"text": "Half price"})
    assert _assert_problem(denied, 403)["detail"] == "this token may only read (scope read)"
    done = _post(world, path, _tok(world, "pizza_write"), {"text": "Half price"})
    assert done.status_code == 202, done.text
    assert done.json()["queued"] == 11 and done.json()["skipped_opted_out"] == 1
    assert "+4477" not in done.text


def test_idempotency_key_queues_once_and_refuses_another_body(world: dict[str, object]) -> None:
    """The same Idempotency-Key gets the first answer again; with another body, 422."""
    pizza = _biz(world, "Pizza Place")
    path, token = f"/businesses/{pizza}/broadcasts", _tok(world, "pizza_write")
    first = _post(world, path, token, {"text": "Tonight"}, **{"Idempotency-Key": "k-1"})
    again = _post(world, path, token, {"text": "Tonight"}, **{"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json() and first.json()["queued"] == 11
    assert again.headers["idempotent-replayed"] == "true"
    other = _post(world, path, token, {"text": "Other"}, **{"Idempotency-Key": "k-1"})
    _assert_problem(other, 422)
    with Store.open(str(world["db"])) as store:
        assert (
            len([m for m in store.outbox.list("queued", limit=500) if m.kind == "broadcast"]) == 11
        )


def test_errors_are_problem_documents(world: dict[str, object]) -> None:
    """Unknown paths, wrong methods, bad bodies and bad parameters answer RFC 9457 JSON."""
    pizza, token = _biz(world, "Pizza Place"), _tok(world, "pizza_write")
    _assert_problem(_get(world, "/nowhere", token), 404)
    _assert_problem(httpx.delete(f"{world['base']}/api/v1/modems"), 405)
    bad = httpx.post(
        f"{world['base']}/api/v1/businesses/{pizza}/broadcasts",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        content=b"{not json",
    )
    _assert_problem(bad, 400)
    plain = httpx.post(
        f"{world['base']}/api/v1/businesses/{pizza}/broadcasts",
        headers={"Authorization": f"Bearer {token}"},
        content=b"text",
    )
    _assert_problem(plain, 415)
    _assert_problem(_post(world, f"/businesses/{pizza}/broadcasts", token, {"text": ""}), 422)
    low = _get(world, f"/businesses/{pizza}/stats", token, min_people="2")
    _assert_problem(low, 422)
    cursor = _get(world, f"/businesses/{pizza}/history", token, cursor="bm9wZQ")
    _assert_problem(cursor, 422)
    _assert_problem(_get(world, "/businesses/999/codes", _tok(world, "operator")), 404)


def test_stats_keep_the_k5_rule(world: dict[str, object]) -> None:
    """Stats by code publish the PIZZA cell (11 people) and suppress nothing else."""
    pizza = _biz(world, "Pizza Place")
    got = _get(world, f"/businesses/{pizza}/stats", _tok(world, "pizza_read"), by="code").json()
    assert got["min_people"] == 5
    assert [(c["label"], c["people"]) for c in got["cells"]] == [("PIZZA", 12)]
    coffee = _biz(world, "Coffee Corner")
    tiny = _get(world, f"/businesses/{coffee}/stats", _tok(world, "coffee_read")).json()
    assert tiny["cells"] == [] and tiny["suppressed"] == 1


def test_operator_sends_and_reads_state(world: dict[str, object]) -> None:
    """The operator's token sends (refused to an opted-out person unless forced), reads state."""
    op = _tok(world, "operator")
    refused = _post(world, "/messages", op, {"number": PHONES[1], "text": "hi"})
    assert _assert_problem(refused, 409)["type"].endswith("/opted-out")  # type: ignore[union-attr]
    forced = _post(world, "/messages", op, {"number": PHONES[1], "text": "hi", "force": True})
    assert forced.status_code == 201, forced.text
    state = _get(world, f"/messages/{forced.json()['id']}", op).json()
    assert state["state"] == "queued" and state["to"] == PHONES[1] and state["kind"] == "manual"
    national = _post(world, "/messages", op, {"number": "07700 900999", "text": "hello"})
    assert national.status_code == 201
    assert _get(world, f"/messages/{national.json()['id']}", op).json()["to"] == "+447700900999"
    _assert_problem(_post(world, "/messages", op, {"number": "12", "text": "x"}), 422)
    _assert_problem(_post(world, "/messages", _tok(world, "pizza_write"), {"number": "1"}), 403)
    _assert_problem(_get(world, "/modems", _tok(world, "pizza_read")), 403)
    with Store.open(str(world["db"])) as store:
        store.modems.record_modem_status(
            "modem0", "sim", healthy=True, now=T0, details={"signal_dbm": -71}
        )
    modems = _get(world, "/modems", op).json()["items"]
    assert [(m["name"], m["healthy"], m["signal_dbm"]) for m in modems] == [("modem0", True, -71)]


def test_openapi_document_matches_the_served_routes(world: dict[str, object]) -> None:
    """Every documented path and method is served (not 404/405), and every route documented."""
    doc = _get(world, "/openapi.json", None).json()
    assert doc == json.loads(json.dumps(document()))
    documented = {(path, m.upper()) for path, ops in doc["paths"].items() for m in ops}
    routes = set()
    with Store.open(str(world["db"])) as store:
        for route in Api(store).routes():
            path = route.path.replace(":int}", "}")
            routes |= {(path, m) for m in (route.methods or ()) if m != "HEAD"}
    assert documented == routes
    op = _tok(world, "operator")
    for path, method in documented:
        url = path.format(business_id=_biz(world, "Pizza Place"), message_id=1)
        got = httpx.request(
            method, f"{world['base']}/api/v1{url}",
            headers={"Authorization": f"Bearer {op}", "Content-Type": "application/json"},
            content=b"{}" if method == "POST" else None,
        )  # fmt: skip
        assert got.status_code not in (404, 405), (path, method, got.text)


def test_metrics_served_over_http(world: dict[str, object]) -> None:
    """GET /metrics answers the Prometheus text format with the database's counts."""
    got = httpx.get(f"{world['base']}/metrics")
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/plain")
    assert "smsd_messages_received_total 14.0" in got.text.replace('{modem=""}', "")
    assert "smsd_webhook_backlog 0.0" in got.text


def test_integrations_from_config_take_policy_and_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`Integrations.from_config` (as smsd web builds it) reads the cap, region and env knobs."""
    from smsd.config import load_config
    from smsd.errors import ConfigError
    from smsd.integrations.app import Integrations

    config = load_config(None, env={"SMSD_LIMITS_BROADCAST_DAILY_CAP": "7",
                                    "SMSD_GATEWAY_DEFAULT_REGION": "IE"})  # fmt: skip
    monkeypatch.setenv("SMSD_WEBHOOKS_RETRY_BASE_S", "0.5")
    with Store.open(tmp_path / "cfg.db") as store:
        parts = Integrations.from_config(store, config)
        assert parts.api.policy.broadcast.default_cap == 7
        assert parts.api.policy.default_region == "IE"
        assert parts.deliverer.settings.retry_base_s == 0.5
        assert parts.deliverer.settings.max_age_h == 24
        monkeypatch.setenv("SMSD_WEBHOOKS_CONCURRENCY", "lots")
        with pytest.raises(ConfigError):
            Integrations.from_config(store, config)


def test_api_follows_the_cli_broadcast_and_send_rules(world: dict[str, object]) -> None:
    """The same text again is refused unless forced; over-long texts are refused; a forced
    send to an opted-out number is audited."""
    pizza, token = _biz(world, "Pizza Place"), _tok(world, "pizza_write")
    path = f"/businesses/{pizza}/broadcasts"
    assert _post(world, path, token, {"text": "Friday"}).status_code == 202
    again = _post(world, path, token, {"text": "Friday"})
    assert _assert_problem(again, 409)["type"].endswith("/repeated-broadcast")  # type: ignore[union-attr]
    assert _post(world, path, token, {"text": "Friday", "force": True}).status_code == 202
    _assert_problem(_post(world, path, token, {"text": "x" * 5000}), 422)
    op = _tok(world, "operator")
    forced = _post(world, "/messages", op, {"number": PHONES[1], "text": "hi", "force": True})
    assert forced.status_code == 201
    with Store.open(str(world["db"])) as store:
        entries = store.audit.list_audit()
    assert [(e.actor.startswith("api:token"), e.action) for e in entries][-1] == (
        True,
        "send_forced",
    )
