"""End to end in a real headless browser (Debian's chromium via Playwright).

The daemon runs on the simulator and `smsd web` serves the same database, both as real
subprocesses. A handset texts PIZZA; the person signs up in the browser with the one-time code
the simulated handset received, sees PIZZA in their history and opts out with one click; the
business signs in and sees the caller only by user code, and the opt-out. Screenshots of the
main pages are kept in tests/artifacts/web/.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from modem.sim import SimModem
from smsd.testing import make_db, running_daemon, smsd_command, texts_to, wait_until
from store.store import Store

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
ARTIFACTS = ROOT / "tests" / "artifacts" / "web"
HANDSET = "+447700900123"
PASSWORD = "correct horse battery"
BIZ_PASSWORD = "pizza oven password"

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="needs Debian's chromium (make test installs it)"
)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:  # noqa: S310 - our own server
            return bool(reply.status == 200)
    except OSError:
        return False


@contextmanager
def running_web(tmp: Path, db: Path) -> Iterator[str]:
    """`smsd web` as a subprocess on a free port; yields its base URL; stopped at the end."""
    base = f"http://127.0.0.1:{free_port()}"
    argv = [*smsd_command(), "--db", str(db), "web", "--listen", base[7:]]
    with open(tmp / "web.log", "wb") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=log, cwd=tmp)
    try:
        wait_until(lambda: _up(base + "/") or proc.poll() is not None, 30, "web server up")
        assert proc.poll() is None, (tmp / "web.log").read_text()
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _seed(tmp: Path) -> Path:
    db = make_db(tmp / "smsd.db", with_coffee=True)
    store = Store.open(db)
    fields = {"first_name": "Bo", "surname": "Chan", "email": "bo@pizza.example",
              "sector": "restaurants"}  # fmt: skip
    store.accounts.update_business("Pizza Place", fields, password=BIZ_PASSWORD)
    store.close()
    return db


def _web_code(sim: SimModem) -> str:
    for text in reversed(texts_to(sim, HANDSET)):
        found = re.search(r"web code is (\d{6})", text)
        if found:
            return found.group(1)
    return ""


def test_person_and_business_journeys_in_a_real_browser(tmp_path: Path, sim: SimModem) -> None:
    """Text PIZZA -> sign up with the texted code -> see PIZZA -> opt out -> business sees it."""
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    db = _seed(tmp_path)
    with running_daemon(tmp_path, db, [sim.link]), running_web(tmp_path, db) as base:
        sim.deliver(HANDSET, "PIZZA")
        welcome = wait_until(lambda: len(texts_to(sim, HANDSET)) >= 2 and texts_to(sim, HANDSET))
        found = re.search(r"personal code is ([A-Z0-9]{6})", welcome[0])
        assert found is not None
        user_code = found.group(1)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_context().new_page()
                page.set_default_timeout(20_000)
                page.goto(base + "/")
                page.screenshot(path=ARTIFACTS / "01-home.png", full_page=True)
                page.click("text=Create your account")
                page.fill("input[name=phone]", "07700 900123")
                page.click("button[type=submit]")
                code = wait_until(lambda: _web_code(sim), 30, "the web code reached the handset")
                page.fill("input[name=user_code]", user_code)
                page.fill("input[name=code]", code)
                page.click("button:has-text('Continue')")
                for name, value in (("first_name", "Ann"), ("surname", "Lee"),
                                    ("email", "ann@example.com"), ("postal_code", "SW1A 1AA"),
                                    ("password", PASSWORD), ("confirm", PASSWORD)):  # fmt: skip
                    page.fill(f"input[name={name}]", value)
                page.screenshot(path=ARTIFACTS / "02-profile.png", full_page=True)
                page.click("button:has-text('Save')")
                expect(page.locator("h1")).to_have_text("My history")
                expect(page.locator("table").first).to_contain_text("Pizza Place")
                expect(page.locator("main")).to_contain_text("PIZZA")
                page.screenshot(path=ARTIFACTS / "03-my-history.png", full_page=True)
                page.click("button:has-text('Opt out')")
                expect(page.locator(".done")).to_contain_text("opted out")
                expect(page.locator("button:has-text('Opt back in')")).to_be_visible()
                page.screenshot(path=ARTIFACTS / "04-opted-out.png", full_page=True)

                shop = browser.new_context().new_page()
                shop.set_default_timeout(20_000)
                shop.goto(base + "/business/signin")
                shop.fill("input[name=email]", "bo@pizza.example")
                shop.fill("input[name=password]", BIZ_PASSWORD)
                shop.click("main button[type=submit]")
                expect(shop.locator("h1")).to_have_text("Pizza Place")
                cards = shop.locator(".card").nth(2)
                expect(cards).to_contain_text("0 opted in")
                expect(cards).to_contain_text("1 opted out")
                latest = shop.locator("table.optins tbody tr").first
                expect(latest).to_contain_text(user_code)
                expect(latest).to_contain_text("opted out")
                shop.screenshot(path=ARTIFACTS / "05-business-dashboard.png", full_page=True)
                shop.click("header >> text=Callers")
                expect(shop.locator("tbody")).to_contain_text(user_code)
                html = shop.content()
                shop.screenshot(path=ARTIFACTS / "06-business-callers.png", full_page=True)
                shop.click("header >> text=Statistics")
                shop.screenshot(path=ARTIFACTS / "07-business-stats.png", full_page=True)
            finally:
                browser.close()
    for form in (HANDSET, "447700900123", "07700 900123", "Ann", "Lee", "ann@example.com"):
        assert form not in html
    assert sorted(p.name for p in ARTIFACTS.glob("0*.png"))[-1] == "07-business-stats.png"
