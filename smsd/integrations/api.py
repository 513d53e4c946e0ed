"""The REST API under `/api/v1`: a Starlette sub-application of its own.

Business routes (`/businesses/{id}/...`) read only through `BusinessView` and the privacy
views, so no response can carry a phone number; the operator's routes (`/messages`,
`/modems`) need the operator's token. Errors are RFC 9457 problem documents, unknown paths
and methods included. `openapi.py` describes exactly these routes (a test compares them).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from smsd.errors import Refused
from smsd.headers import SecurityHeaders
from smsd.integrations.auth import Guard
from smsd.integrations.openapi import document
from smsd.integrations.problems import Problem, http_exception_handler, problem_handler
from smsd.integrations.settings import Policy
from smsd.numbers import InvalidNumber, to_e164
from smsd.operator import check_parts, check_recipient, check_repeat
from smsd.scheduler import queue_broadcast
from store.business_view import BusinessView, HistoryCursor
from store.errors import Conflict, StoreError
from store.store import Store
from store.tokens import Stored, Token

__all__ = ["Api", "dump"]

T = TypeVar("T")
_MAX_PAGE = 500
_MIN_PEOPLE = 5
_MAX_BODY = 64 * 1024


def _utcnow() -> datetime:
    return datetime.now(UTC)


def dump(value: Any) -> Any:
    """JSON-ready: datetimes as ISO-8601, tuples as lists, dataclass-like dicts recursively."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): dump(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [dump(v) for v in value]
    return value


def _ok(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(dump(data), status_code=status, headers=headers)


def _when(raw: str | None, name: str) -> datetime | None:
    if raw is None or raw == "":
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise Problem(422, "invalid-input", f"{name}: not an ISO-8601 time: {raw!r}") from exc
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _int(raw: str | None, name: str, default: int, low: int, high: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise Problem(422, "invalid-input", f"{name} must be a whole number") from exc
    if not low <= value <= high:
        raise Problem(422, "invalid-input", f"{name} must be between {low} and {high}")
    return value


def encode_cursor(cursor: HistoryCursor | None) -> str | None:
    """An opaque page cursor (base64url of time and request id)."""
    if cursor is None:
        return None
    raw = f"{cursor.at.isoformat()}|{cursor.request_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str | None) -> HistoryCursor | None:
    """The cursor a client sent back; 422 if it is not one of ours."""
    if not text:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        at, _, request_id = raw.partition("|")
        return HistoryCursor(datetime.fromisoformat(at), int(request_id))
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise Problem(422, "invalid-cursor", "cursor is not one this API gave out") from exc


async def _body(request: Request) -> tuple[dict[str, Any], str]:
    """The JSON object of a POST and a hash of it (for idempotency keys)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise Problem(415, "unsupported-media-type", "send Content-Type: application/json")
    raw = await request.body()
    if len(raw) > _MAX_BODY:
        raise Problem(422, "invalid-input", "the request body is too large")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Problem(400, "malformed-json", "the body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise Problem(422, "invalid-input", "the body must be a JSON object")
    digest = hashlib.sha256(request.url.path.encode() + b"\0" + raw).hexdigest()
    return data, digest


def _flag(data: dict[str, Any], name: str) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise Problem(422, "invalid-input", f"{name} must be true or false")
    return value


def _refused(check: Callable[[], T], status: int, slug: str) -> T:
    """Run one of `smsd.operator`'s checks; its `Refused` becomes a problem document."""
    try:
        return check()
    except Refused as exc:
        raise Problem(status, slug, str(exc)) from exc


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise Problem(422, "invalid-input", f"{name} must be a non-empty string")
    return value


_HEADERS = [
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
]


class Api:
    """The `/api/v1` application over one open `Store`."""

    def __init__(
        self,
        store: Store,
        policy: Policy | None = None,
        *,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.store = store
        self.policy = policy or Policy()
        self.clock = clock
        self.tokens = store.tokens
        self.guard = Guard(self.tokens, clock)

    def routes(self) -> list[Route]:
        """The routes, relative to `/api/v1` (mount `app()` there)."""
        b = "/businesses/{business_id:int}"
        return [
            Route("/openapi.json", self.openapi, methods=["GET"]),
            Route("/me", self.me, methods=["GET"]),
            Route(b + "/history", self.history, methods=["GET"]),
            Route(b + "/codes", self.codes, methods=["GET"]),
            Route(b + "/stats", self.stats, methods=["GET"]),
            Route(b + "/optins", self.optins, methods=["GET"]),
            Route(b + "/invoices", self.invoices, methods=["GET"]),
            Route(b + "/broadcasts", self.broadcast, methods=["POST"]),
            Route("/messages", self.send, methods=["POST"]),
            Route("/messages/{message_id:int}", self.message, methods=["GET"]),
            Route("/modems", self.modems, methods=["GET"]),
        ]

    def app(self) -> ASGIApp:
        """A Starlette app answering every error with a problem document (no-store, nosniff)."""
        return SecurityHeaders(
            Starlette(
                routes=self.routes(),
                exception_handlers={
                    Problem: problem_handler,
                    StoreError: problem_handler,
                    HTTPException: http_exception_handler,
                    Exception: problem_handler,
                },
            ),
            _HEADERS,
        )

    async def _run(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(func, *args, **kwargs)

    async def openapi(self, request: Request) -> Response:
        """The OpenAPI 3.1 document of this API."""
        return _ok(document())

    async def me(self, request: Request) -> Response:
        """Who the token is: scope and business."""
        token = await self.guard.token(request)
        business = None
        if token.business_id is not None:
            business = {"id": token.business_id, "name": token.business}
        return _ok({"token": {"id": token.id, "scope": token.scope, "prefix": token.prefix},
                    "business": business})  # fmt: skip

    async def history(self, request: Request) -> Response:
        """Requests (user code, code, time), newest first, cursor-paged."""
        _, business_id = await self.guard.business(request)
        q = request.query_params
        limit = _int(q.get("limit"), "limit", 100, 1, _MAX_PAGE)
        since, until = _when(q.get("since"), "since"), _when(q.get("until"), "until")
        before = decode_cursor(q.get("cursor"))
        code = q.get("code") or None

        def read() -> Any:
            view = BusinessView(self.store.directory, business_id)
            return view.page(code, since, until, limit=limit, before=before)

        page = await self._run(read)
        items = [{"user_code": r.user_code, "code": r.keyword, "at": r.at} for r in page.rows]
        return _ok({"items": items[::-1], "next_cursor": encode_cursor(page.before)})

    async def codes(self, request: Request) -> Response:
        """The business's codes with requests and distinct requesters."""
        _, business_id = await self.guard.business(request)
        counts = await self._run(
            lambda: BusinessView(self.store.directory, business_id).code_counts()
        )
        return _ok({"items": [
            {"code": c.keyword, "paused": c.paused, "requests": c.requests, "people": c.people}
            for c in counts
        ]})  # fmt: skip

    async def stats(self, request: Request) -> Response:
        """People and requests per cell, cells under `min_people` (>= 5) suppressed."""
        _, business_id = await self.guard.business(request)
        by = request.query_params.get("by", "code")
        k = _int(request.query_params.get("min_people"), "min_people", _MIN_PEOPLE, 5, 10_000)
        result = await self._run(self.store.stats.breakdown, by, business=business_id, min_people=k)
        return _ok({
            "by": result.by, "min_people": result.min_people, "suppressed": result.suppressed,
            "total_people": result.total_people, "total_requests": result.total_requests,
            "cells": [{"label": c.label, "people": c.people, "requests": c.requests,
                       "share": c.share} for c in result.cells],
        })  # fmt: skip

    async def optins(self, request: Request) -> Response:
        """People currently opted in and out."""
        _, business_id = await self.guard.business(request)
        counts = await self._run(
            lambda: BusinessView(self.store.directory, business_id).optin_counts()
        )
        return _ok(counts)

    async def invoices(self, request: Request) -> Response:
        """The business's invoices with their lines."""
        _, business_id = await self.guard.business(request)
        found = await self._run(self.store.invoices.list_invoices, business_id)
        return _ok({"items": [
            {"number": i.number, "month": i.month, "currency": i.currency, "total": str(i.total),
             "created_at": i.created_at, "lines": [
                 {"kind": li.kind, "description": li.description, "quantity": li.quantity,
                  "unit_price": str(li.unit_price), "amount": str(li.amount)} for li in i.lines]}
            for i in found
        ]})  # fmt: skip

    async def broadcast(self, request: Request) -> Response:
        """Queue a broadcast to everyone opted in, by the CLI's rules; idempotent."""
        token, business_id = await self.guard.business(request, write=True)
        data, digest = await _body(request)
        text, force = _text(data, "text"), _flag(data, "force")
        policy, now = self.policy.broadcast, self.clock()
        _refused(lambda: check_parts(text, policy.max_parts), 422, "too-long")

        def act() -> Stored:
            since = now - policy.repeat_window
            _refused(lambda: check_repeat(self.store, business_id, text, since, force=force),
                     409, "repeated-broadcast")  # fmt: skip
            result = queue_broadcast(self.store, business_id, text, now, policy)
            return Stored(202, dump({
                "broadcast_id": result.broadcast_id, "queued": result.queued,
                "skipped_opted_out": result.skipped_opted_out, "capped": result.capped,
                "due_at": result.due_at,
            }))  # fmt: skip

        return await self._idempotent(request, token, digest, act)

    async def send(self, request: Request) -> Response:
        """The operator sends one message; refused to a number that opted out, unless forced."""
        token = await self.guard.operator(request)
        data, digest = await _body(request)
        text, force = _text(data, "text"), _flag(data, "force")
        try:
            number = to_e164(_text(data, "number"), self.policy.default_region)
        except InvalidNumber as exc:
            raise Problem(422, "invalid-number", str(exc)) from exc
        _refused(lambda: check_parts(text, self.policy.broadcast.max_parts), 422, "too-long")
        now = self.clock()

        def act() -> Stored:
            forced = _refused(lambda: check_recipient(self.store, number, force=force),
                              409, "opted-out")  # fmt: skip
            if forced:
                person = self.store.directory.find_person(number)
                subject = person.user_code if person is not None else "unregistered number"
                actor = f"api:token {token.id}"
                self.store.audit.record_audit(actor, "send_forced", subject, "opted out")
            new_id = self.store.broadcasts.queue_manual(number, text, now=now)
            return Stored(201, {"id": new_id, "state": "queued"})

        return await self._idempotent(request, token, digest, act)

    async def _idempotent(
        self, request: Request, token: Token, digest: str, act: Callable[[], Stored]
    ) -> Response:
        """Run `act` once per `Idempotency-Key`: a retry gets the first response again."""
        key = request.headers.get("idempotency-key")
        if key is not None and not 1 <= len(key) <= 255:
            raise Problem(422, "invalid-idempotency-key", "Idempotency-Key: 1 to 255 characters")
        owner = "operator" if token.business_id is None else f"business:{token.business_id}"

        def once() -> tuple[Stored, bool]:
            with self.store.transaction():
                if key is not None:
                    try:
                        stored = self.tokens.recall(owner, key, digest)
                    except Conflict as exc:
                        raise Problem(422, "idempotency-key-reused", str(exc)) from exc
                    if stored is not None:
                        return stored, True
                stored = act()
                if key is not None:
                    self.tokens.remember(owner, key, digest, stored, now=self.clock())
                return stored, False

        stored, replayed = await self._run(once)
        headers = {"Idempotent-Replayed": "true"} if replayed else None
        return _ok(stored.body, stored.status, headers)

    async def message(self, request: Request) -> Response:
        """One outgoing message's state (operator)."""
        await self.guard.operator(request)
        m = await self._run(self.store.outbox.get_outgoing, int(request.path_params["message_id"]))
        return _ok({
            "id": m.id, "to": m.recipient, "kind": m.kind, "state": m.state,
            "created_at": m.created_at, "sent_at": m.sent_at, "delivered_at": m.delivered_at,
            "attempts": m.attempts, "parts": m.parts, "modem": m.modem, "error": m.error,
        })  # fmt: skip

    async def modems(self, request: Request) -> Response:
        """Each modem's last recorded status (operator)."""
        await self.guard.operator(request)
        return _ok({"items": await self._run(self.store.modems.modem_statuses)})
