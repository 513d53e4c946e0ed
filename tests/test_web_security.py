"""The portal's security: cookie flags, session rotation and timeouts, CSRF, headers, lockout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from httpx2 import Response
from starlette.testclient import TestClient
from webkit import (
    BIZ_PASSWORD,
    PASSWORD,
    PHONE,
    csrf_of,
    last_code,
    post,
    seed,
    sign_in_business,
    sign_up_person,
    user_code_of,
    web_client,
)

from store.store import Store

pytestmark = pytest.mark.usefixtures("fast_hashes")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A gateway with two businesses and one person who texted both."""
    return seed(tmp_path / "web.db")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def set_cookie_of(response: Response, name: str = "smsd_session") -> str:
    """The Set-Cookie header that sets `name`."""
    headers = response.headers.get_list("set-cookie")
    found = [h for h in headers if h.startswith(name + "=")]
    assert found, f"no {name} cookie in {headers}"
    return str(found[-1])


def test_session_cookie_is_httponly_lax_without_expiry(db: Path) -> None:
    """Over HTTP the session cookie is HttpOnly, SameSite=Lax, with no Expires or Max-Age."""
    with web_client(db) as client:
        cookie = set_cookie_of(sign_in_business(client)).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert "expires" not in cookie and "max-age" not in cookie
    assert "secure" not in cookie


def test_session_cookie_is_secure_over_tls(db: Path) -> None:
    """Served over HTTPS, the cookie is also Secure and responses carry HSTS."""
    with web_client(db, https=True) as client:
        response = sign_in_business(client)
        cookie = set_cookie_of(response).lower()
        assert "secure" in cookie and "httponly" in cookie and "max-age" not in cookie
        assert "max-age=" in client.get("/business").headers["strict-transport-security"]


def test_security_headers_on_pages_errors_and_static(db: Path) -> None:
    """CSP without inline script, frame-ancestors 'none', nosniff and Referrer-Policy everywhere."""
    with web_client(db) as client:
        for url in ("/", "/nowhere", "/static/style.css", "/signin"):
            headers = client.get(url).headers
            csp = headers["content-security-policy"]
            assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
            assert "unsafe-inline" not in csp and "script-src" not in csp
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["referrer-policy"] == "same-origin"


def test_pages_have_no_script_and_every_post_form_has_a_csrf_field(db: Path) -> None:
    """No <script> on any page; each POST form carries the CSRF token."""
    with web_client(db) as client:
        sign_in_business(client)
        pages = [client.get(u).text for u in ("/", "/business", "/business/codes")]
    for html in pages:
        assert "<script" not in html
        assert html.count('method="post"') == html.count('name="csrf"')


def test_post_without_csrf_is_refused_and_changes_nothing(db: Path) -> None:
    """Opting out without (or with a wrong) CSRF token is 403 and the person stays opted in."""
    with web_client(db) as client:
        sign_up_person(client, db)
        html = client.get("/me").text
        business = html.split('name="business" value="')[1].split('"')[0]
        assert client.post("/me/optout", data={"business": business}).status_code == 403
        bad = {"business": business, "csrf": "x" * 40}
        assert client.post("/me/optout", data=bad).status_code == 403
        assert client.get("/me").text.count("Opt back in") == 0


def test_a_post_from_another_origin_is_refused_even_with_the_token(db: Path) -> None:
    """A cross-site Origin header on a POST is 403; the site's own origin passes."""
    with web_client(db) as client:
        token = csrf_of(client.get("/business/signin").text)
        data = {"csrf": token, "email": "bo@pizza.example", "password": BIZ_PASSWORD}
        evil = client.post(
            "/business/signin", data=data, headers={"origin": "https://evil.example"}
        )
        assert evil.status_code == 403
        own = client.post("/business/signin", data=data, headers={"origin": "http://testserver"})
        assert own.status_code == 303


def test_anonymous_forms_need_the_pre_session_token(db: Path) -> None:
    """Sign-in without the token set by the form page is refused (login CSRF)."""
    with web_client(db) as client:
        data = {"email": "bo@pizza.example", "password": BIZ_PASSWORD}
        assert client.post("/business/signin", data=data).status_code == 403
        assert "smsd_session" not in client.cookies


def test_session_id_rotates_at_sign_in_and_old_ids_die(db: Path) -> None:
    """Each sign-in issues a new id; the id from before sign-up's last step no longer works."""
    with web_client(db) as client:
        page = post(client, "/signup", "/signup", {"phone": PHONE})
        assert page.status_code == 200
        client.post("/signup/verify", data={"csrf": csrf_of(page.text), "phone": PHONE,
                    "user_code": user_code_of(db), "code": last_code(db)})  # fmt: skip
        before = client.cookies["smsd_session"]
        post(client, "/signup/profile", "/signup/profile", {
            "first_name": "Ann", "surname": "Lee", "email": "ann@example.com",
            "postal_code": "SW1A 1AA", "password": PASSWORD, "confirm": PASSWORD})  # fmt: skip
        after = client.cookies["smsd_session"]
        assert after != before
        client.cookies.set("smsd_session", before)
        assert client.get("/signup/profile").headers["location"] == "/signup"


def test_session_ids_are_stored_hashed(db: Path) -> None:
    """The cookie value itself is nowhere in the database."""
    with web_client(db) as client:
        sign_in_business(client)
        sid = client.cookies["smsd_session"]
    raw = db.read_bytes() + (db.with_name(db.name + "-wal").read_bytes() if
                             db.with_name(db.name + "-wal").exists() else b"")  # fmt: skip
    assert sid.encode() not in raw


def test_sign_out_ends_every_session_of_the_account(db: Path) -> None:
    """After sign-out the old cookie, and the account's other browsers, are signed out."""
    with web_client(db) as client, web_client(db) as other:
        sign_in_business(client)
        sign_in_business(other)
        sid = client.cookies["smsd_session"]
        post(client, "/business", "/signout", {})
        client.cookies.set("smsd_session", sid)
        assert client.get("/business").headers["location"] == "/business/signin"
        assert other.get("/business").headers["location"] == "/business/signin"


@pytest.mark.parametrize(
    ("step", "expired"),
    [(timedelta(minutes=29), False), (timedelta(minutes=31), True)],
)
def test_idle_timeout(db: Path, step: timedelta, expired: bool) -> None:
    """A session unused for longer than the idle timeout (30 min) is over."""
    clock = Clock()
    with web_client(db, clock=clock) as client:
        sign_in_business(client)
        clock.now += step
        response = client.get("/business")
    assert (response.status_code == 303) is expired


def test_absolute_lifetime(db: Path) -> None:
    """Even in constant use, a session ends after its absolute lifetime (12 h)."""
    clock = Clock()
    with web_client(db, clock=clock) as client:
        sign_in_business(client)
        for _ in range(40):
            clock.now += timedelta(minutes=20)
            if client.get("/business").status_code != 200:
                break
        assert (
            timedelta(hours=12)
            < clock.now - datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
            <= timedelta(hours=12, minutes=20)
        )
        assert client.get("/business").headers["location"] == "/business/signin"


WRONG = "wrong password!"


def _fail(client: TestClient, email: str, password: str = WRONG) -> Response:
    data = {"email": email, "password": password}
    return post(client, "/business/signin", "/business/signin", data)


def test_lockout_after_repeated_failures_is_audited_and_backs_off(db: Path) -> None:
    """Five failures lock the account; the right password is then refused; lock-outs audited."""
    clock = Clock()
    with web_client(db, clock=clock) as client:
        for _ in range(5):
            assert _fail(client, "bo@pizza.example").status_code == 400
        locked = _fail(client, "bo@pizza.example", BIZ_PASSWORD)
        assert "Too many failed sign-ins" in locked.text
        clock.now += timedelta(minutes=1, seconds=1)
        again = _fail(client, "bo@pizza.example")  # the 6th failure: locked for 2 minutes
        assert "Wrong sign-in details" in again.text
        clock.now += timedelta(minutes=1, seconds=1)
        assert "Too many" in _fail(client, "bo@pizza.example", BIZ_PASSWORD).text
        clock.now += timedelta(minutes=1)
        assert sign_in_business(client).status_code == 303
    store = Store.open(db)
    locks = [a for a in store.audit.list_audit() if a.action == "signin_locked"]
    store.close()
    assert any(a.subject == "Pizza Place" for a in locks)
    assert any("client" in (a.reason or "") for a in locks)


def test_failures_from_one_address_lock_it_across_accounts(db: Path) -> None:
    """Guessing across many accounts from one client address locks that address."""
    with web_client(db) as client:
        for i in range(5):
            _fail(client, f"nobody{i}@example.com")
        assert "Too many" in sign_in_business(client).text


def test_unknown_and_wrong_password_give_the_same_answer(db: Path) -> None:
    """Sign-in does not tell an unknown email from a wrong password, whatever its length."""
    with web_client(db) as client:
        answers = [
            _fail(client, "nobody@example.com"),
            _fail(client, "nobody@example.com", "short"),
            _fail(client, "bo@pizza.example"),
            _fail(client, "bo@pizza.example", "short"),
        ]
    for answer in answers:
        assert answer.status_code == 400
        assert "Wrong sign-in details" in answer.text


def test_password_change_ends_every_session(db: Path) -> None:
    """A person changing the password signs out their other browsers."""
    with web_client(db) as first, web_client(db) as second:
        sign_up_person(first, db)
        post(second, "/signin", "/signin", {"login": PHONE, "password": PASSWORD})
        assert second.get("/me").status_code == 200
        new = "a brand new password"
        values = {"first_name": "Ann", "surname": "Lee", "email": "ann@example.com",
                  "postal_code": "SW1A 1AA", "password": new, "confirm": new}  # fmt: skip
        assert post(first, "/me/profile", "/me/profile", values).status_code == 303
        assert first.get("/me").status_code == 200
        assert second.get("/me").headers["location"] == "/signin"


def test_protected_pages_redirect_to_the_right_sign_in(db: Path) -> None:
    """Without a session, person pages go to /signin and business pages to /business/signin."""
    checks = [("/me", "/signin"), ("/me/profile", "/signin"), ("/business", "/business/signin"),
              ("/business/history.csv", "/business/signin")]  # fmt: skip
    with web_client(db) as client:
        for url, target in checks:
            assert client.get(url).headers["location"] == target
        sign_in_business(client)
        assert client.get("/me").headers["location"] == "/signin"
