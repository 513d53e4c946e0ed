"""People on the portal: sign up with a texted code, sign in, reset, history, opt out/in,
profile, download my data, close my account."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from httpx2 import Response
from starlette.testclient import TestClient
from webkit import (
    PASSWORD,
    PHONE,
    csrf_of,
    last_code,
    post,
    seed,
    sign_up_person,
    text,
    user_code_of,
    web_client,
)

from store.accounts import PersonProfile
from store.store import Store

pytestmark = pytest.mark.usefixtures("fast_hashes")

PROFILE = {"first_name": "Ann", "surname": "Lee", "email": "ann@example.com",
           "postal_code": "SW1A 1AA", "password": PASSWORD, "confirm": PASSWORD}  # fmt: skip


@pytest.fixture
def db(db_target: str) -> Path:
    """A gateway with two businesses and one person who texted both (on each backend)."""
    return seed(db_target)  # type: ignore[arg-type]  # a path or a postgresql:// URL


def profile(db: Path) -> PersonProfile:
    """The person's stored profile."""
    store = Store.open(db)
    try:
        return store.accounts.person_profile(user_code_of(db))
    finally:
        store.close()


def verify(client: TestClient, db: Path, **over: str) -> Response:
    """Steps 1-2 of sign-up, with fields overridable."""
    page = post(client, "/signup", "/signup", {"phone": PHONE})
    data = {"csrf": csrf_of(page.text), "phone": PHONE, "user_code": user_code_of(db),
            "code": last_code(db)} | over  # fmt: skip
    if data["code"] == "WRONG":  # any six digits but the texted ones
        data["code"] = "000000" if last_code(db) != "000000" else "111111"
    return client.post("/signup/verify", data=data)


def test_sign_up_texts_a_code_and_shows_my_history(db: Path) -> None:
    """Phone -> texted code + user code -> profile -> my history with both businesses."""
    with web_client(db) as client:
        assert sign_up_person(client, db).headers["location"] == "/me?done=welcome"
        page = client.get("/me").text
    assert user_code_of(db) in page
    assert "Pizza Place" in page and "Coffee Corner" in page and "PIZZA" in page
    assert page.count("<svg") == 2 and "Opt out" in page
    stored = profile(db)
    assert stored.registered_at is not None and stored.password_set


def test_the_code_text_goes_through_the_outbox_to_that_phone_only(db: Path) -> None:
    """The one-time code is queued to the phone; an unknown number gets nothing, same page."""
    with web_client(db) as client:
        known = post(client, "/signup", "/signup", {"phone": "07700 900123"})
        unknown = post(client, "/signup", "/signup", {"phone": "+447700900999"})
    assert known.status_code == unknown.status_code == 200
    assert "a code is on its way" in known.text and "a code is on its way" in unknown.text
    store = Store.open(db)
    recipients = [o.recipient for o in store.outbox.list(limit=100) if "web code" in o.text]
    store.close()
    assert recipients == [PHONE]


def test_wrong_code_or_user_code_is_refused_and_saves_nothing(db: Path) -> None:
    """A wrong texted code or another user code is refused with one message."""
    with web_client(db) as client:
        wrong_code = verify(client, db, code="WRONG")
        wrong_user = verify(client, db, user_code="ABCDEF")
    for reply in (wrong_code, wrong_user):
        assert reply.status_code == 400
        assert "do not match" in reply.text
    assert profile(db).registered_at is None


def test_five_wrong_codes_use_up_the_code(db: Path) -> None:
    """After five wrong tries even the right code is refused."""
    with web_client(db) as client:
        page = post(client, "/signup", "/signup", {"phone": PHONE})
        good = last_code(db)
        bad = "000000" if good != "000000" else "111111"
        base = {"csrf": csrf_of(page.text), "phone": PHONE, "user_code": user_code_of(db)}
        for _ in range(5):
            client.post("/signup/verify", data=base | {"code": bad})
        assert client.post("/signup/verify", data=base | {"code": good}).status_code == 400


def test_bad_profile_is_shown_on_the_form_and_nothing_is_saved(db: Path) -> None:
    """A bad IMEI or mismatched passwords: 400, the message on the form, no profile saved."""
    with web_client(db) as client:
        verify(client, db)
        bad_imei = post(client, "/signup/profile", "/signup/profile", PROFILE | {"imei": "123"})
        mismatch = post(client, "/signup/profile", "/signup/profile", PROFILE | {"confirm": "x"})
    assert bad_imei.status_code == 400 and "imei" in bad_imei.text and "Luhn" in bad_imei.text
    assert 'value="Ann"' in bad_imei.text  # the form keeps what was typed
    assert mismatch.status_code == 400 and "passwords differ" in mismatch.text
    assert profile(db).registered_at is None
    assert profile(db).first_name is None


def test_an_account_already_registered_is_refused(db: Path) -> None:
    """Signing up again, even with a valid code, says: sign in or reset instead."""
    with web_client(db) as client:
        sign_up_person(client, db)
    with web_client(db) as client:
        reply = verify(client, db)
    assert reply.status_code == 400 and "already has an account" in reply.text


@pytest.mark.parametrize("login", [PHONE, "07700 900123", "ANN@example.com"])
def test_sign_in_by_phone_or_email(db: Path, login: str) -> None:
    """A registered person signs in with the phone (any format) or the email, and password."""
    with web_client(db) as client:
        sign_up_person(client, db)
    with web_client(db) as client:
        reply = post(client, "/signin", "/signin", {"login": login, "password": PASSWORD})
        assert reply.headers["location"] == "/me"
        assert client.get("/me").status_code == 200


def test_reset_by_texted_code(db: Path) -> None:
    """Reset: code texted, new password set, old one refused, new one works."""
    with web_client(db) as client:
        sign_up_person(client, db)
    new = "another long password"
    with web_client(db) as client:
        page = post(client, "/reset", "/reset", {"phone": PHONE})
        reply = client.post("/reset/verify", data={"csrf": csrf_of(page.text), "phone": PHONE,
                            "code": last_code(db)})  # fmt: skip
        assert reply.headers["location"] == "/reset/password"
        done = post(client, "/reset/password", "/reset/password",
                    {"password": new, "confirm": new})  # fmt: skip
        assert done.headers["location"] == "/me?done=password"
    with web_client(db) as client:
        old = post(client, "/signin", "/signin", {"login": PHONE, "password": PASSWORD})
        assert old.status_code == 400
        assert (
            post(client, "/signin", "/signin", {"login": PHONE, "password": new}).status_code == 303
        )


def _business_id(page: str, name: str) -> str:
    row = page.split(f"<td>{name}</td>")[1]
    return row.split('name="business" value="')[1].split('"')[0]


def test_one_click_opt_out_and_back_in_are_recorded_with_channel_web(db: Path) -> None:
    """Opt out of Pizza Place: ledger row (web), status shown, broadcast skips; then back in."""
    with web_client(db) as client:
        sign_up_person(client, db)
        pizza = _business_id(client.get("/me").text, "Pizza Place")
        reply = post(client, "/me", "/me/optout", {"business": pizza})
        assert reply.headers["location"] == "/me?done=out"
        page = client.get("/me?done=out").text
        assert "opted out" in page and "Opt back in" in page
        store = Store.open(db)
        rows = store.db.conn.execute(
            "SELECT kind, channel FROM optin_events ORDER BY id DESC LIMIT 1"
        ).fetchall()
        skipped = store.broadcasts.broadcast("Pizza Place", "hi", now=store.accounts.person_profile(
            user_code_of(db)).created_at, default_cap=10).skipped_opted_out  # fmt: skip
        store.close()
        assert rows == [("out", "web")] and skipped == 1
        post(client, "/me", "/me/optin", {"business": pizza})
        assert "Opt back in" not in client.get("/me").text


def test_cannot_opt_out_of_a_business_not_in_my_history(db: Path) -> None:
    """A business id the person never texted is 404, and nothing is written."""
    store = Store.open(db)
    other = store.directory.add_business("Elsewhere").id
    store.close()
    with web_client(db) as client:
        sign_up_person(client, db)
        reply = post(client, "/me", "/me/optout", {"business": str(other)})
    assert reply.status_code == 404


def test_edit_profile_saves_all_or_nothing(db: Path) -> None:
    """A valid edit is saved; an edit with one bad field saves none of it."""
    with web_client(db) as client:
        sign_up_person(client, db)
        form = {k: v for k, v in PROFILE.items() if "password" not in k and k != "confirm"}
        ok = post(client, "/me/profile", "/me/profile", form | {"surname": "Lee-Smith",
                  "country": "gb", "age_band": "21-25"})  # fmt: skip
        assert ok.headers["location"] == "/me?done=profile"
        bad = post(client, "/me/profile", "/me/profile", form | {"surname": "X", "country": "ZZ"})
        assert bad.status_code == 400 and "country" in bad.text
    stored = profile(db)
    assert stored.surname == "Lee-Smith" and stored.country == "GB"


def test_download_my_data_is_the_disclosure_and_is_audited(db: Path) -> None:
    """The JSON holds profile, ledger and texts (as `smsd disclose`); an audit row is written."""
    with web_client(db) as client:
        sign_up_person(client, db)
        reply = post(client, "/me", "/me/data", {})
    assert reply.headers["content-type"].startswith("application/json")
    assert "attachment" in reply.headers["content-disposition"]
    data = json.loads(reply.text)
    assert data["profile"]["phone"] == PHONE and data["profile"]["first_name"] == "Ann"
    assert {"summary", "ledger", "incoming", "outgoing", "audit"} <= set(data)
    store = Store.open(db)
    audit = [a for a in store.audit.list_audit(subject=user_code_of(db)) if a.action == "disclose"]
    store.close()
    assert len(audit) == 1 and audit[0].actor.startswith("web:")


def test_close_account_erases_everywhere_and_ends_sessions(db: Path) -> None:
    """Closing: confirm needed; then the number is gone, history kept, sign-in fails."""
    code = user_code_of(db)
    with web_client(db) as client:
        sign_up_person(client, db)
        unconfirmed = post(client, "/me/close", "/me/close", {})
        assert unconfirmed.status_code == 400
        closed = post(client, "/me/close", "/me/close", {"confirm": "yes"})
        assert closed.status_code == 200 and "closed" in closed.text
        assert client.get("/me").headers["location"] == "/signin"
        assert (
            post(client, "/signin", "/signin", {"login": PHONE, "password": PASSWORD}).status_code
            == 400
        )
    store = Store.open(db)
    person = store.directory.get_person(code)
    history = store.routing.history("Pizza Place")
    phones = store.db.conn.execute(
        "SELECT count(*) FROM incoming WHERE sender = ?", (PHONE,)).fetchone()[0]  # fmt: skip
    store.close()
    assert person.phone is None and person.erased_at is not None
    assert [r.user_code for r in history] == [code] and phones == 0


def test_hostile_business_names_are_escaped(db: Path) -> None:
    """A business named with markup shows as text on the person's page."""
    store = Store.open(db)
    store.directory.add_business("<script>alert(1)</script>")
    store.directory.add_code("<script>alert(1)</script>", "EVIL", "hi")
    store.close()
    store = Store.open(db)
    text(store, PHONE, "EVIL")
    store.close()
    with web_client(db) as client:
        sign_up_person(client, db)
        page = client.get("/me").text
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
