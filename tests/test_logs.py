"""Logs never carry message bodies, phone numbers or user codes at info level."""

from __future__ import annotations

import io
import json
import sqlite3
from contextlib import redirect_stderr
from pathlib import Path

import structlog

from modem.sim import SimModem
from smsd.logs import configure_logging
from smsd.testing import running_daemon, wait_until
from store.store import Store

SECRET_TEXT = "PIZZA margherita please"
HANDSET = "+447700900555"


def _emit(level: str) -> str:
    err = io.StringIO()
    with redirect_stderr(err):
        configure_logging(level, "json")
        log = structlog.get_logger()
        log.info("sms_received", incoming_id=1, pii_sender=HANDSET, pii_text=SECRET_TEXT)
        log.debug("sms_received_detail", incoming_id=1, pii_sender=HANDSET)
    structlog.reset_defaults()
    return err.getvalue()


def test_pii_keys_dropped_at_info() -> None:
    """At info level the pii_* keys are removed and debug events are not written."""
    out = _emit("info")
    assert HANDSET not in out and SECRET_TEXT not in out
    assert json.loads(out.splitlines()[0])["event"] == "sms_received"


def test_pii_keys_shown_marked_at_debug() -> None:
    """At debug level pii_* keys appear, under their marked names only."""
    lines = [json.loads(line) for line in _emit("debug").splitlines()]
    detail = next(e for e in lines if e["event"] == "sms_received_detail")
    assert detail["pii_sender"] == HANDSET
    assert "pii_sender" not in next(e for e in lines if e["event"] == "sms_received")


def test_daemon_info_log_has_no_personal_data(tmp_path: Path) -> None:
    """A whole conversation through the real daemon: its info log names no number, text or code."""
    db = tmp_path / "smsd.db"
    store = Store.open(db)
    store.directory.add_business("Pizza Place")
    store.directory.add_code("Pizza Place", "PIZZA", "Pizza: 2-for-1, show {user_code}")
    store.close()
    sim = SimModem("generic", noise=False, link=str(tmp_path / "sim0"))
    sim.start()
    try:
        with running_daemon(tmp_path, db, [sim.link]) as daemon:
            sim.deliver(HANDSET, SECRET_TEXT)
            wait_until(lambda: len(sim.sent()) >= 2, what="replies")
            daemon.terminate()
            text = daemon.log_text()
    finally:
        sim.stop()
    with sqlite3.connect(db) as conn:
        (code,) = conn.execute("SELECT user_code FROM people").fetchone()
    assert "sms_received" in text and "sms_sent" in text
    for secret in (HANDSET, HANDSET[1:], SECRET_TEXT, "margherita", code, "2-for-1"):
        assert secret not in text, secret
