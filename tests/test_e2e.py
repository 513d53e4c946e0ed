"""End to end: ``smsd run`` as a subprocess on the simulator's pty, a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from modem.sim import SimModem
from smsd.testing import (
    DaemonProcess,
    make_db,
    notify_socket,
    rows,
    running_daemon,
    texts_to,
    wait_until,
)

HANDSET = "+447700900123"
# Status reports move rows on from 'sent' to 'delivered' at any moment: count both.
SENT_OR_DELIVERED = "SELECT count(*) FROM outgoing WHERE state IN ('sent', 'delivered')"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A database with two businesses, each with one code."""
    return make_db(tmp_path / "smsd.db", with_coffee=True)


def test_first_contact_gets_user_code_and_reply(tmp_path: Path, sim: SimModem, db: Path) -> None:
    """A first text to a code gets the user code once and the code's reply; rows are stored."""
    with running_daemon(tmp_path, db, [sim.link]) as daemon:
        sim.deliver(HANDSET, "pizza")
        got = wait_until(lambda: len(texts_to(sim, HANDSET)) >= 2 and texts_to(sim, HANDSET))
        delivered = "SELECT count(*) FROM outgoing WHERE state = 'delivered'"
        wait_until(lambda: rows(db, delivered) == [(2,)], what="status reports matched")
        wait_until(lambda: sim.stats["storage_used"] == 0, what="reports deleted from the SIM")
        assert daemon.terminate() == 0
    (code,) = rows(db, "SELECT user_code FROM people WHERE phone = '+447700900123'")[0]
    assert len(code) == 6
    assert code in got[0] and "personal code" in got[0]
    assert got[1] == f"Pizza: 2-for-1, show {code}"
    assert rows(db, "SELECT count(*) FROM requests") == [(1,)]
    assert rows(db, "SELECT kind FROM optin_events") == [("in",)]
    assert rows(db, "SELECT state FROM incoming") == [("routed",)]
    assert sim.stats["storage_used"] == 0  # message and reports deleted from the SIM once stored


def test_second_business_sends_no_new_user_code(tmp_path: Path, sim: SimModem, db: Path) -> None:
    """Another business: its opt-in confirmation and reply, never a second user code."""
    with running_daemon(tmp_path, db, [sim.link]):
        sim.deliver(HANDSET, "PIZZA")
        wait_until(lambda: len(texts_to(sim, HANDSET)) >= 2)
        sim.deliver(HANDSET, "coffee")
        wait_until(lambda: len(texts_to(sim, HANDSET)) >= 4)
        wait_until(lambda: rows(db, SENT_OR_DELIVERED) == [(4,)])
    got = texts_to(sim, HANDSET)
    assert "Coffee Corner" in got[2] and "STOP COFFEE" in got[2]
    assert got[3] == "Coffee: 5th cup free"
    assert sum("personal code" in t for t in got) == 1
    assert rows(db, "SELECT count(*) FROM people") == [(1,)]


def test_sigkill_after_store_before_send_sends_reply_once(
    tmp_path: Path, sim: SimModem, db: Path
) -> None:
    """SIGKILL once the SMS is stored but before the reply went out: after restart, sent once."""
    sim.fault("prompt_timeout", count=1)  # the first AT+CMGS waits for a prompt that never comes
    with notify_socket(tmp_path) as listener:
        daemon = DaemonProcess(tmp_path, db, [sim.link])
        daemon.start(listener)
        sim.deliver(HANDSET, "PIZZA")
        wait_until(lambda: rows(db, "SELECT count(*) FROM outgoing") == [(2,)], what="outbox")
        wait_until(lambda: sim.command_counts.get("AT+CMGS", 0) >= 1, what="a send attempt")
        daemon.kill()
        assert sim.sent() == []
        daemon.start(listener)
        wait_until(lambda: rows(db, SENT_OR_DELIVERED) == [(2,)])
        assert daemon.terminate() == 0
    got = texts_to(sim, HANDSET)
    assert len(got) == 2 and got[1].startswith("Pizza: 2-for-1")
    assert rows(db, "SELECT count(*) FROM incoming") == [(1,)]


def test_sigkill_before_commit_leaves_sms_on_sim(tmp_path: Path, sim: SimModem, db: Path) -> None:
    """SIGKILL after +CMTI and AT+CMGR, before the commit: the SMS stays on the SIM, once."""
    with notify_socket(tmp_path) as listener:
        daemon = DaemonProcess(tmp_path, db, [sim.link])
        daemon.start(listener)
        sim.fault("hang_on", command="AT+CMGR")  # the read is received, never answered
        sim.deliver(HANDSET, "PIZZA")
        wait_until(lambda: sim.stats["urc:+CMTI"] >= 1, what="the +CMTI")
        wait_until(lambda: sim.command_counts.get("AT+CMGR", 0) >= 1, what="the read")
        daemon.kill()
        assert rows(db, "SELECT count(*) FROM incoming") == [(0,)]
        assert sim.stats["storage_used"] == 1
        sim.fault("unhang")
        daemon.start(listener)  # the start-up sweep finds it
        wait_until(lambda: len(texts_to(sim, HANDSET)) >= 2, what="replies after restart")
        delivered = "SELECT count(*) FROM outgoing WHERE state = 'delivered'"
        wait_until(lambda: rows(db, delivered) == [(2,)], what="status reports matched")
        wait_until(lambda: sim.stats["storage_used"] == 0, what="SMS and reports deleted")
        assert daemon.terminate() == 0
    assert rows(db, "SELECT count(*) FROM incoming") == [(1,)]
    assert rows(db, "SELECT count(*) FROM requests") == [(1,)]
    assert len(texts_to(sim, HANDSET)) == 2  # processed once: one user code, one reply
