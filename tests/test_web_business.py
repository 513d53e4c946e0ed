"""Businesses on the portal: sign-up and approval, dashboard, caller history and CSV, codes,
statistics with suppression, invoices, broadcasts; never a phone number, never another
business's rows."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from webkit import PHONE, csrf_of, post, seed, sign_in_business, sign_up_person, text, web_client

from cli.main import cli
from smsd.settings import BroadcastPolicy
from store.errors import StoreUnavailable
from store.invoices import Invoice
from store.store import Store

pytestmark = pytest.mark.usefixtures("fast_hashes")

SIGNUP = {"name": "Bakery Bros", "sector": "food", "first_name": "Di", "surname": "Ng",
          "email": "di@bakery.example", "password": "a long bakery password",
          "confirm": "a long bakery password"}  # fmt: skip
PAGES = ("/business", "/business/history", "/business/callers", "/business/codes",
         "/business/codes/PIZZA",
         "/business/stats?by=hour", "/business/stats?by=code", "/business/stats?by=age",
         "/business/invoices", "/business/broadcast")  # fmt: skip


@pytest.fixture
def db(db_target: str) -> Path:
    """A gateway with two businesses and one person who texted both (on each backend)."""
    return seed(db_target)  # type: ignore[arg-type]  # a path or a postgresql:// URL


def bill(store: Store, business: str, month: str) -> Invoice:
    """Invoice `business` for `month` at 10p a request."""
    prices = {"price_per_request": Decimal("0.10"), "price_per_broadcast_part": Decimal("0.05")}
    return store.invoices.create_invoice(business, month, currency="GBP", **prices)


def phone_forms(phone: str) -> list[str]:
    """Ways a phone number could be written on a page."""
    digits = phone.lstrip("+")
    return [phone, digits, "0" + digits[2:], digits[2:], "7700 900"]


def test_no_phone_or_name_on_any_business_page_or_csv(db: Path) -> None:
    """Every business page and the CSV show the user code, never the number or the name."""
    with web_client(db) as client:
        sign_up_person(client, db)  # the person now has a name and an email on file
    with web_client(db) as client:
        sign_in_business(client)
        bodies = [client.get(url).text for url in PAGES]
        csv_text = client.get("/business/history.csv").text
        preview = post(client, "/business/broadcast", "/business/broadcast", {"text": "Hi"}).text
    code = Store.open(db).directory.find_person(PHONE).user_code
    assert code in bodies[1] and code in csv_text
    for body in [*bodies, csv_text, preview]:
        for form in [*phone_forms(PHONE), "Ann", "Lee", "ann@example.com"]:
            assert form not in body


def test_business_sign_up_waits_for_approval(db: Path) -> None:
    """A new business is pending (no codes) until `smsd company approve NAME`."""
    with web_client(db) as client:
        assert post(client, "/business/signup", "/business/signup", SIGNUP).status_code == 303
        assert "awaiting the operator" in client.get("/business").text
        add = {"keyword": "BREAD", "reply": "Fresh bread {user_code}"}
        refused = post(client, "/business/codes", "/business/codes", add)
        assert refused.status_code == 400 and "approval" in refused.text
        result = CliRunner().invoke(cli, ["--db", str(db), "company", "approve", "Bakery Bros"])
        assert result.exit_code == 0 and "approved" in result.output
        assert post(client, "/business/codes", "/business/codes", add).status_code == 303
        assert "awaiting" not in client.get("/business").text
    store = Store.open(db)
    assert store.directory.get_code("BREAD").business_name == "Bakery Bros"
    store.close()


def test_business_is_live_at_once_when_approval_is_off(db: Path) -> None:
    """`[web] approve_businesses = false`: no approval step."""
    with web_client(db, approve_businesses=False) as client:
        post(client, "/business/signup", "/business/signup", SIGNUP)
        assert "awaiting" not in client.get("/business").text


def test_business_sign_up_errors_stay_on_the_form(db: Path) -> None:
    """A taken name, a bad email or short password: 400 with the message, nothing created."""
    cases = [({"name": "Pizza Place"}, "name"), ({"email": "nope"}, "email"),
             ({"password": "short", "confirm": "short"}, "password")]  # fmt: skip
    with web_client(db) as client:
        for change, word in cases:
            reply = post(client, "/business/signup", "/business/signup", SIGNUP | change)
            assert reply.status_code == 400 and word in reply.text
    assert len(Store.open(db).directory.list_businesses()) == 2


def test_dashboard_counts_today_and_this_week(db: Path) -> None:
    """Requests and new opt-ins today and this week, people opted in, codes with counts."""
    with web_client(db) as client:
        sign_in_business(client)
        page = client.get("/business").text
    numbers = re.findall(r'<span class="big">(\d+)</span>', page)
    assert numbers == ["1", "1", "1", "1", "1", "0"]
    assert "PIZZA" in page and "COFFEE" not in page


def test_cross_business_ids_are_refused(db: Path) -> None:
    """Pizza Place cannot see or change Coffee Corner's code, invoice or history."""
    store = Store.open(db)
    past = (datetime.now(UTC).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    coffee = bill(store, "Coffee Corner", past)
    store.close()
    with web_client(db) as client:
        sign_in_business(client)
        assert client.get("/business/codes/COFFEE").status_code == 404
        edit = post(client, "/business/codes", "/business/codes/COFFEE", {"reply": "pwned"})
        pause = post(client, "/business/codes", "/business/codes/COFFEE/pause", {"paused": "1"})
        assert edit.status_code == pause.status_code == 404
        assert client.get(f"/business/invoices/{coffee.number}").status_code == 404
        assert client.get("/business/history?code=COFFEE").status_code == 400
        assert client.get("/business/history.csv?code=COFFEE").status_code == 400
    code = Store.open(db).directory.get_code("COFFEE")
    assert code.reply != "pwned" and not code.paused


def test_history_pages_filters_and_csv(db: Path) -> None:
    """60 requests: 50 on the first page, 10 older; filters by code and day; CSV audited."""
    store = Store.open(db)
    store.directory.add_code("Pizza Place", "SLICE", "A slice {user_code}")
    start = datetime(2026, 11, 2, 12, tzinfo=UTC)
    for i in range(60):
        text(
            store, f"+4477009002{i:02d}", "SLICE" if i % 2 else "PIZZA", start + timedelta(hours=i)
        )
    store.close()
    with web_client(db) as client:
        sign_in_business(client)
        first = client.get("/business/history").text
        older = re.search(r'href="(/business/history\?[^"]*before=[^"]+)"', first)
        assert older is not None
        second = client.get(older.group(1).replace("&amp;", "&")).text
        assert first.count('<td class="code">') == 50 and second.count('<td class="code">') == 11
        sliced = client.get("/business/history?code=slice&since=2026-11-03&until=2026-11-03").text
        assert "12 request(s)" in sliced
        rows = list(csv.reader(io.StringIO(client.get("/business/history.csv?code=SLICE").text)))
        assert rows[0] == ["user_code", "code", "at"] and len(rows) == 31
        assert {r[1] for r in rows[1:]} == {"SLICE"}
        assert client.get("/business/history?since=yesterday").status_code == 400
    store = Store.open(db)
    exports = [a for a in store.audit.list_audit() if a.action == "export"]
    store.close()
    assert exports and exports[-1].reason == "csv, 30 rows"


def test_callers_page_counts_times_requested_per_caller(db: Path) -> None:
    """A caller who texted PIZZA three times is one row with 3; filters and paging work."""
    store = Store.open(db)
    text(store, PHONE, "PIZZA")
    text(store, PHONE, "pizza!")
    for i in range(55):
        text(store, f"+4477009004{i:02d}", "PIZZA", datetime(2026, 11, 2, 12, i, tzinfo=UTC))
    code = store.directory.find_person(PHONE).user_code  # type: ignore[union-attr]
    store.close()
    with web_client(db) as client:
        sign_in_business(client)
        first = client.get("/business/callers").text
        older = client.get("/business/callers?offset=50").text
        november = client.get("/business/callers?since=2026-11-02&until=2026-11-02").text
        assert client.get("/business/callers?code=COFFEE").status_code == 400
        assert client.get("/business/callers?offset=x").status_code == 400
    assert f'<td class="code">{code}</td><td>PIZZA</td><td>3</td>' in first
    assert first.count('<td class="code">') == 50 and older.count('<td class="code">') == 6
    assert code not in november and november.count('<td class="code">') == 50
    assert PHONE not in first + older and "Older" in first and "Newer" in older


def test_codes_add_edit_with_placeholder_check_and_pause(db: Path) -> None:
    """Add a code; an unknown placeholder is refused and nothing saved; pause and resume."""
    with web_client(db) as client:
        sign_in_business(client)
        new = {"keyword": "calzone", "reply": "Calzone {user_code}", "description": "x"}
        added = post(client, "/business/codes", "/business/codes", new)
        assert added.status_code == 303
        taken = post(client, "/business/codes", "/business/codes",
                     {"keyword": "COFFEE", "reply": "mine now"})  # fmt: skip
        assert taken.status_code == 400
        bad = post(client, "/business/codes/CALZONE", "/business/codes/CALZONE",
                   {"reply": "Hi {name}", "description": "changed"})  # fmt: skip
        assert bad.status_code == 400 and "unknown placeholder {name}" in bad.text
        stray = post(client, "/business/codes/CALZONE", "/business/codes/CALZONE",
                     {"reply": "Hi {user_code"})  # fmt: skip
        assert stray.status_code == 400
        good = post(client, "/business/codes/CALZONE", "/business/codes/CALZONE",
                    {"reply": "{business}: {code} {user_code}", "description": "new"})  # fmt: skip
        assert good.status_code == 303
        post(client, "/business/codes", "/business/codes/CALZONE/pause", {"paused": "1"})
        assert "Resume" in client.get("/business/codes").text
    code = Store.open(db).directory.get_code("CALZONE")
    assert code.reply == "{business}: {code} {user_code}" and code.description == "new"
    assert code.paused


def test_stats_suppress_small_cells_like_the_cli(db: Path) -> None:
    """One person alone in an hour is hidden (with its complement); seven people are shown."""
    with web_client(db) as client:
        sign_in_business(client)
        alone = client.get("/business/stats?by=hour").text
        assert "<svg" in alone and "<td>1</td>" not in alone
        assert client.get("/business/stats?by=phone").status_code == 404
    store = Store.open(db)
    hour = datetime.now(UTC).hour
    six, seven = (hour + 3) % 24, (hour + 6) % 24
    for i in range(13):
        at = datetime(2026, 11, 2, six if i < 6 else seven, 30, tzinfo=UTC)
        text(store, f"+4477009003{i:02d}", "PIZZA", at)
    store.close()
    with web_client(db) as client:
        sign_in_business(client)
        crowd = client.get("/business/stats?by=hour").text
    assert f"<td>{seven:02d}</td><td>7</td><td>7</td>" in crowd
    assert f"<td>{six:02d}</td>" not in crowd  # the complement of the one hidden cell
    assert "other (suppressed)</td><td>7</td>" in crowd


def test_invoices_list_and_printable_view(db: Path) -> None:
    """An invoice of a past month is listed and has a printable page."""
    store = Store.open(db)
    past = (datetime.now(UTC).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    invoice = bill(store, "Pizza Place", past)
    store.close()
    with web_client(db) as client:
        sign_in_business(client)
        assert invoice.number in client.get("/business/invoices").text
        page = client.get(f"/business/invoices/{invoice.number}").text
    assert "Requests answered" in page and "GBP" in page and "@media print" not in page


def test_broadcast_preview_confirm_and_cap(db: Path) -> None:
    """Preview shows the count; sending needs confirmation; the daily cap holds."""
    store = Store.open(db)
    text(store, "+447700900555", "PIZZA")
    store.close()
    with web_client(db, broadcast=BroadcastPolicy(default_cap=1)) as client:
        sign_in_business(client)
        preview = post(client, "/business/broadcast", "/business/broadcast",
                       {"text": "Half price <b>tonight</b>"})  # fmt: skip
        assert "Goes to <strong>2</strong> people" in preview.text
        assert "&lt;b&gt;tonight" in preview.text
        empty = post(client, "/business/broadcast", "/business/broadcast", {"text": " "})
        assert empty.status_code == 400
        unconfirmed = post(client, "/business/broadcast", "/business/broadcast/send",
                           {"text": "Half price"})  # fmt: skip
        assert unconfirmed.status_code == 400
        sent = post(client, "/business/broadcast", "/business/broadcast/send",
                    {"text": "Half price", "confirm": "yes"})  # fmt: skip
        assert "Queued 1 message(s); 1 over the daily cap" in sent.text
        again = post(client, "/business/broadcast", "/business/broadcast", {"text": "Half price"})
        assert again.status_code == 400 and "broadcast to this audience recently" in again.text
        long = post(client, "/business/broadcast", "/business/broadcast", {"text": "x" * 2000})
        assert long.status_code == 400 and "max_parts" in long.text
    rows = Store.open(db).outbox.list(state="queued", limit=100)
    assert sum(1 for o in rows if o.kind == "broadcast") == 1


def test_a_full_disk_is_a_503_and_nothing_is_half_saved(db: Path) -> None:
    """The database cannot grow: sign-up answers 503 with a message; no business is created."""
    if str(db).startswith("postgresql://"):
        pytest.skip("SQLite's page limit is the disk-full knob; PostgreSQL has none")
    with web_client(db) as client:
        page = client.get("/business/signup")
        store: Store = client.app.state.web.store  # type: ignore[attr-defined]
        store.limit_pages(store.db.conn.execute("PRAGMA page_count").fetchone()[0])
        with pytest.raises(StoreUnavailable):  # fill the businesses table's last pages
            for i in range(10_000):
                store.directory.add_business(f"filler {i:05d} " + "x" * 60)
        before = len(store.directory.list_businesses())
        reply = client.post("/business/signup", data=SIGNUP | {"csrf": csrf_of(page.text)})
        assert len(store.directory.list_businesses()) == before
    assert reply.status_code == 503 and "Nothing was saved" in reply.text
