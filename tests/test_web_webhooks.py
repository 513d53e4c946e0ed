"""A business's webhooks on the portal: list, add with the secret shown once, remove, retry;
CSRF refused; never another business's or the operator's webhooks."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from webkit import PHONE, csrf_of, post, seed, sign_in_business, text, web_client

from store.events import Outcome
from store.store import Store
from store.webhooks import Webhook

pytestmark = pytest.mark.usefixtures("fast_hashes")

HOOKS = "/business/webhooks"
URL = "https://till.example/sms"


@pytest.fixture
def db(db_target: str) -> Path:
    """A gateway with two businesses and one person who texted both, on each backend."""
    return seed(db_target)  # type: ignore[arg-type]  # a path or a postgresql:// URL


def hooks_of(db: Path, business: str | None = None) -> list[Webhook]:
    """The live webhooks in the database (all, or one business's)."""
    store = Store.open(db)
    try:
        found = store.webhooks.list(business)
    finally:
        store.close()
    return found


def add_direct(db: Path, business: str | None, url: str) -> Webhook:
    """A webhook added as `smsd webhook add` adds it."""
    store = Store.open(db)
    try:
        return store.webhooks.add(business, url, now=datetime.now(UTC))[0]
    finally:
        store.close()


def park_failed(db: Path) -> int:
    """PHONE texts PIZZA again (a `request.created` delivery) and every due delivery fails for
    good (parked); returns how many were parked."""
    store = Store.open(db)
    try:
        text(store, PHONE, "PIZZA")
        now = datetime.now(UTC)
        due = store.events.due(now)
        store.events.record([Outcome(d.id, ok=False, status=500) for d in due], now)
        return len(due)
    finally:
        store.close()


def test_list_shows_own_webhooks_with_counts_and_no_operator_ones(db: Path) -> None:
    """The page lists Pizza Place's webhook with its counts, not Coffee's or the operator's."""
    add_direct(db, "Pizza Place", URL)
    add_direct(db, "Coffee Corner", "https://coffee.example/in")
    add_direct(db, None, "https://ops.example/hook")
    assert park_failed(db) == 2  # Pizza's request.created, the operator's message.received
    with web_client(db) as client:
        sign_in_business(client)
        assert f'href="{HOOKS}"' in client.get("/business").text
        page = client.get(HOOKS).text
    assert URL in page and "request.created" in page
    assert "coffee.example" not in page and "ops.example" not in page
    assert "<td>0</td><td>0</td><td>1</td>" in page  # pending, delivered, failed


def test_add_shows_the_secret_once(db: Path) -> None:
    """Adding answers with the signing secret; the list and a second visit never show it."""
    with web_client(db) as client:
        sign_in_business(client)
        added = post(client, HOOKS, HOOKS, {"url": URL})
        assert added.status_code == 200
        assert added.headers["cache-control"] == "no-store"
        with Store.open(db) as store:
            (secret,) = store.db.execute("SELECT secret FROM webhooks").fetchone()
        assert secret.startswith("whsec_") and secret in added.text
        again = client.get(HOOKS).text
        assert URL in again and secret not in again
    hooks = hooks_of(db, "Pizza Place")
    assert [h.url for h in hooks] == [URL]


def test_add_refuses_a_bad_url_and_saves_nothing(db: Path) -> None:
    """A URL the CLI would refuse is shown as an error on the form, and nothing is stored."""
    with web_client(db) as client:
        sign_in_business(client)
        for bad in ("ftp://till.example/sms", "https:///nohost", "https://a.example/x y", ""):
            reply = post(client, HOOKS, HOOKS, {"url": bad})
            assert reply.status_code == 400 and 'class="error"' in reply.text
            assert "whsec_" not in reply.text
    assert hooks_of(db, "Pizza Place") == []


def test_remove_asks_to_confirm_then_stops_the_webhook(db: Path) -> None:
    """Remove shows a confirmation form; without the tick nothing changes; with it, gone."""
    hook = add_direct(db, "Pizza Place", URL)
    page = f"{HOOKS}/{hook.id}/remove"
    with web_client(db) as client:
        sign_in_business(client)
        assert "Yes, remove it" in client.get(page).text
        unticked = post(client, page, page, {})
        assert unticked.status_code == 400 and len(hooks_of(db, "Pizza Place")) == 1
        done = post(client, page, page, {"confirm": "yes"})
        assert done.status_code == 303 and done.headers["location"] == HOOKS
        assert URL not in client.get(HOOKS).text
        assert client.get(page).status_code == 404
    assert hooks_of(db, "Pizza Place") == []


def test_retry_requeues_parked_deliveries(db: Path) -> None:
    """Retry puts the failed deliveries back in the queue and says how many."""
    hook = add_direct(db, "Pizza Place", URL)
    assert park_failed(db) == 1
    with web_client(db) as client:
        sign_in_business(client)
        reply = post(client, HOOKS, f"{HOOKS}/{hook.id}/retry", {})
        assert reply.status_code == 303
        assert "Queued 1 failed" in client.get(reply.headers["location"]).text
    (after,) = hooks_of(db, "Pizza Place")
    assert (after.pending, after.failed) == (1, 0)


def test_post_without_csrf_is_refused_and_changes_nothing(db: Path) -> None:
    """Add, remove and retry without the session's CSRF token: 403, nothing changed."""
    hook = add_direct(db, "Pizza Place", URL)
    park_failed(db)
    with web_client(db) as client:
        sign_in_business(client)
        for url, data in ((HOOKS, {"url": "https://other.example/"}),
                          (f"{HOOKS}/{hook.id}/remove", {"confirm": "yes"}),
                          (f"{HOOKS}/{hook.id}/retry", {})):  # fmt: skip
            assert client.post(url, data=data).status_code == 403
            assert client.post(url, data={**data, "csrf": "forged" * 4}).status_code == 403
    (after,) = hooks_of(db, "Pizza Place")
    assert (after.url, after.failed, after.removed_at) == (URL, 1, None)


def test_another_business_or_operator_webhook_is_404(db: Path) -> None:
    """Coffee's and the operator's webhook ids are 404 for Pizza Place, and stay untouched."""
    coffee = add_direct(db, "Coffee Corner", "https://coffee.example/in")
    ops = add_direct(db, None, "https://ops.example/hook")
    with web_client(db) as client:
        sign_in_business(client)
        token = csrf_of(client.get(HOOKS).text)
        for hook in (coffee, ops):
            one = f"{HOOKS}/{hook.id}"
            assert client.get(f"{one}/remove").status_code == 404
            removed = client.post(f"{one}/remove", data={"csrf": token, "confirm": "yes"})
            assert removed.status_code == 404
            assert client.post(f"{one}/retry", data={"csrf": token}).status_code == 404
        assert client.get(f"{HOOKS}/999/remove").status_code == 404
    assert [h.id for h in hooks_of(db, "Coffee Corner")] == [coffee.id]
    store = Store.open(db)
    assert store.webhooks.get(ops.id).removed_at is None
    store.close()


def test_signed_out_visitor_is_sent_to_sign_in(db: Path) -> None:
    """Without a business session the webhooks page redirects to the business sign-in."""
    with web_client(db) as client:
        reply = client.get(HOOKS)
    assert reply.status_code == 303 and reply.headers["location"] == "/business/signin"
