"""Shared pieces for the web portal's tests: a seeded gateway, a test client, sign-in steps."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from smsd.config import WebConfig
from smsd.pipeline import process_incoming
from smsd.router import Rules
from smsd.settings import BroadcastPolicy
from smsd.web.app import create_app
from smsd.web.context import WebContext
from store.store import Store

__all__ = [
    "BIZ_PASSWORD",
    "PASSWORD",
    "PHONE",
    "csrf_of",
    "last_code",
    "post",
    "seed",
    "sign_in_business",
    "sign_up_person",
    "text",
    "user_code_of",
    "web_client",
]

PHONE = "+447700900123"
PASSWORD = "correct horse battery"
BIZ_PASSWORD = "pizza oven password"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def text(store: Store, phone: str, words: str, at: datetime | None = None) -> None:
    """A handset texts `words`: stored and routed exactly as the daemon does."""
    when = at or datetime.now(UTC)
    incoming = store.inbox.record_incoming(
        sender=phone, sender_type="international", text=words, received_at=when, scts=when
    )
    assert incoming is not None
    process_incoming(store, incoming, when, Rules())


def seed(path: Path) -> Path:
    """Pizza Place (PIZZA) and Coffee Corner (COFFEE), both with web passwords; PHONE texted
    PIZZA and COFFEE."""
    store = Store.open(path)
    for name, email, keyword in (
        ("Pizza Place", "bo@pizza.example", "PIZZA"),
        ("Coffee Corner", "cy@coffee.example", "COFFEE"),
    ):
        store.directory.add_business(name)
        store.accounts.update_business(
            name,
            {"first_name": "Bo", "surname": "Chan", "email": email, "sector": "food"},
            password=BIZ_PASSWORD,
        )
        store.directory.add_code(name, keyword, f"{name}: hello {{user_code}}", "the deal")
    text(store, PHONE, "PIZZA")
    text(store, PHONE, "COFFEE")
    store.close()
    return path


@contextmanager
def web_client(
    db: Path,
    *,
    https: bool = False,
    clock: Callable[[], datetime] | None = None,
    broadcast: BroadcastPolicy | None = None,
    **web: Any,
) -> Iterator[TestClient]:
    """A test client on a fresh app over the database file `db` (closed afterwards)."""
    store = Store.open(db)
    ctx = WebContext(store=store, web=replace(WebConfig(), **web))
    if clock is not None:
        ctx.clock = clock
    if broadcast is not None:
        ctx.broadcast = broadcast
    base = "https://testserver" if https else "http://testserver"
    try:
        with TestClient(create_app(ctx), base_url=base, follow_redirects=False) as client:
            yield client
    finally:
        store.close()


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _CSRF.search(html)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)


def post(client: TestClient, page: str, url: str, data: dict[str, str]) -> Any:
    """GET `page` for its CSRF token, then POST `data` to `url` with it."""
    token = csrf_of(client.get(page).text)
    return client.post(url, data={"csrf": token, **data})


def last_code(db: Path, phone: str = PHONE) -> str:
    """The one-time code in the latest text queued to `phone`."""
    store = Store.open(db)
    try:
        texts = [o.text for o in store.outbox.list(limit=1000) if o.recipient == phone]
    finally:
        store.close()
    found = re.search(r"code is (\d{6})", texts[0] if texts else "")
    assert found is not None, f"no code texted to {phone}"
    return found.group(1)


def user_code_of(db: Path, phone: str = PHONE) -> str:
    """The user code the gateway gave `phone`."""
    store = Store.open(db)
    try:
        person = store.directory.find_person(phone)
    finally:
        store.close()
    assert person is not None
    return person.user_code


def sign_up_person(client: TestClient, db: Path, phone: str = PHONE) -> Any:
    """The whole sign-up: phone, texted code with user code, profile; returns the last reply."""
    page = post(client, "/signup", "/signup", {"phone": phone})
    assert page.status_code == 200, page.text
    reply = client.post(
        "/signup/verify",
        data={"csrf": csrf_of(page.text), "phone": phone,
              "user_code": user_code_of(db, phone), "code": last_code(db, phone)},
    )  # fmt: skip
    assert reply.status_code == 303, reply.text
    return post(client, "/signup/profile", "/signup/profile", {
        "first_name": "Ann", "surname": "Lee", "email": "ann@example.com",
        "postal_code": "SW1A 1AA", "password": PASSWORD, "confirm": PASSWORD,
    })  # fmt: skip


def sign_in_business(client: TestClient, email: str = "bo@pizza.example") -> Any:
    """Sign a business in by email and password."""
    return post(
        client, "/business/signin", "/business/signin", {"email": email, "password": BIZ_PASSWORD}
    )
