"""The sender's retry budget: a real Modem on a simulated one, a real SQLite store, a set clock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from modem.modem import Modem
from modem.settings import ModemSettings
from modem.sim import SimModem
from smsd.sender import Sender
from smsd.settings import RetryPolicy
from store import Store

HANDSET = "+447700900123"
START = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand, so back-off delays cost no wall time."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def modem() -> Iterator[tuple[SimModem, Modem]]:
    """An initialised Modem on a quiet generic simulator."""
    sim = SimModem("generic", noise=False)
    sim.start()
    assert sim.wait_booted(10)
    driver = Modem(ModemSettings(url=sim.device_path, prompt_timeout=0.5, command_timeout=10.0))
    driver.open()
    driver.initialise()
    yield sim, driver
    driver.close()
    sim.stop()


def _send_until_settled(
    store: Store, sender: Sender, driver: Modem, clock: Clock, out_id: int
) -> tuple[str, int, str | None]:
    """Offer the sender its due message, an hour later each time, until it is sent or failed."""
    for _ in range(20):
        sender.send_due(driver, "m0", threading.Event())
        row = store.outbox.get_outgoing(out_id)
        if row.state in ("sent", "failed"):
            return row.state, row.attempts, row.error
        clock.now += timedelta(hours=1)
    raise AssertionError("the message never settled")


@pytest.mark.parametrize("max_attempts", [1, 3, 5])
def test_temporary_errors_give_up_after_exactly_max_attempts(
    tmp_path: Path, modem: tuple[SimModem, Modem], max_attempts: int
) -> None:
    """Every send fails with +CMS 500: the modem is tried exactly ``max_attempts`` times."""
    sim, driver = modem
    sim.fault("cms_error", code=500, count=50)
    clock = Clock()
    policy = RetryPolicy(
        max_attempts=max_attempts, status_reports=False, validity=timedelta(days=9)
    )
    with Store.open(tmp_path / "smsd.db") as store:
        out_id = store.outbox.queue_outgoing(HANDSET, "hello", "reply", now=START)
        sender = Sender(store.outbox, policy, clock=clock)
        state, attempts, error = _send_until_settled(store, sender, driver, clock, out_id)
    assert (state, attempts) == ("failed", max_attempts)
    tries = "1 attempt" if max_attempts == 1 else f"{max_attempts} attempts"
    assert error == f"gave up after {tries}: +CMS ERROR: 500"
    assert 50 - len(sim.wire.cms_errors) == max_attempts  # sends the simulator refused


def test_a_send_that_succeeds_on_the_last_attempt_is_sent(
    tmp_path: Path, modem: tuple[SimModem, Modem]
) -> None:
    """Two failures and max_attempts = 3: the third try goes out and is recorded as sent."""
    sim, driver = modem
    sim.fault("cms_error", code=500, count=2)
    clock = Clock()
    policy = RetryPolicy(max_attempts=3, status_reports=False, validity=timedelta(days=9))
    with Store.open(tmp_path / "smsd.db") as store:
        out_id = store.outbox.queue_outgoing(HANDSET, "hello", "reply", now=START)
        sender = Sender(store.outbox, policy, clock=clock)
        state, attempts, error = _send_until_settled(store, sender, driver, clock, out_id)
    assert (state, attempts) == ("sent", 3)
    assert error is None  # a sent row carries no error


class ReclaimingClock(Clock):
    """A clock that, when read for the second part, lets host "b" requeue every claim as
    expired first: this host stalled past the claim timeout between two parts."""

    def __init__(self, other: Store) -> None:
        super().__init__()
        self.other = other
        self.reads = 0

    def __call__(self) -> datetime:
        self.reads += 1
        if self.reads == 2:  # the first read claims; the second renews before part two
            self.other.outbox.reclaim_expired(self.now + timedelta(hours=1), timedelta(minutes=1))
        return self.now


def test_a_multipart_send_renews_its_claim_after_each_part(
    tmp_path: Path, modem: tuple[SimModem, Modem]
) -> None:
    """Three parts, the clock a minute later at each part: the claim ends at the last part's
    time, so a reclaim counts its timeout from there, not from the first part."""
    sim, driver = modem
    clock = Clock()

    class Ticking(Clock):
        def __call__(self) -> datetime:
            clock.now += timedelta(minutes=1)
            return clock.now

    policy = RetryPolicy(status_reports=False, validity=timedelta(days=9))
    with Store.open(tmp_path / "smsd.db") as store:
        out_id = store.outbox.queue_outgoing(HANDSET, "x" * 400, "reply", now=START)
        sender = Sender(store.outbox, policy, clock=Ticking())
        assert sender.send_due(driver, "m0", threading.Event())
        row = store.outbox.get_outgoing(out_id)
    assert row.state == "sent" and len(sim.network.sent) == 3
    assert row.claimed_at == START + timedelta(minutes=3)  # claimed at +1, renewed at +2, +3


def test_a_send_whose_claim_was_requeued_stops_before_the_next_part(
    tmp_path: Path, modem: tuple[SimModem, Modem]
) -> None:
    """Requeued between parts (by another host, as expired): the first part went out, the rest
    is left to the row's next holder, and nothing is recorded as sent."""
    sim, driver = modem
    path = tmp_path / "smsd.db"
    policy = RetryPolicy(status_reports=False, validity=timedelta(days=9))
    with Store.open(path, host="a") as store, Store.open(path, host="b") as other:
        out_id = store.outbox.queue_outgoing(HANDSET, "x" * 400, "reply", now=START)
        sender = Sender(store.outbox, policy, clock=ReclaimingClock(other))
        assert sender.send_due(driver, "m0", threading.Event())
        row = store.outbox.get_outgoing(out_id)
    assert len(sim.network.sent) == 1
    assert (row.state, row.claimed_by, row.mr) == ("queued", None, None)
