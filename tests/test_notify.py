"""Tests for smsd.notify against a real AF_UNIX datagram socket."""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from smsd.notify import Notifier
from smsd.testing import notify_socket

NotifierFactory = Callable[[Mapping[str, str]], Notifier]


@pytest.fixture
def make_notifier() -> Iterator[NotifierFactory]:
    """Notifier.from_env, with every notifier closed at the end even if the test fails."""
    made: list[Notifier] = []

    def factory(environ: Mapping[str, str]) -> Notifier:
        made.append(Notifier.from_env(environ))
        return made[-1]

    yield factory
    for notifier in made:
        notifier.close()


def test_no_socket_is_a_no_op(make_notifier: NotifierFactory) -> None:
    """Without NOTIFY_SOCKET every call returns False and nothing is sent."""
    notifier = make_notifier({})
    assert not notifier.enabled
    assert notifier.ready() is False
    assert notifier.status("x") is False
    assert notifier.watchdog() is False
    assert notifier.stopping() is False
    assert notifier.reloading() is False
    assert notifier.watchdog_interval() is None


def test_ready_with_status(tmp_path: Path, make_notifier: NotifierFactory) -> None:
    """ready() sends READY=1 and the status line in one datagram."""
    with notify_socket(tmp_path) as sock:
        notifier = make_notifier(sock.env)
        assert notifier.ready(status="modem0 ready") is True
        message = sock.wait_for("READY", timeout=5)
        assert message == {"READY": "1", "STATUS": "modem0 ready"}


def test_each_message_kind(tmp_path: Path, make_notifier: NotifierFactory) -> None:
    """status, watchdog and stopping each send their own assignment."""
    with notify_socket(tmp_path) as sock:
        notifier = make_notifier(sock.env)
        assert notifier.status("queue 3")
        assert notifier.watchdog()
        assert notifier.stopping()
        assert sock.wait_for("STATUS", "queue 3", timeout=5) == {"STATUS": "queue 3"}
        assert sock.wait_for("WATCHDOG", timeout=5) == {"WATCHDOG": "1"}
        assert sock.wait_for("STOPPING", timeout=5) == {"STOPPING": "1"}


def test_status_newlines_are_flattened(tmp_path: Path, make_notifier: NotifierFactory) -> None:
    """A newline in a status cannot inject another assignment such as READY=1."""
    with notify_socket(tmp_path) as sock:
        notifier = make_notifier(sock.env)
        notifier.status("bad\nREADY=1")
        message = sock.wait_for("STATUS", "bad READY=1", timeout=5)
        assert "READY" not in message


def test_reloading_carries_monotonic_time(tmp_path: Path, make_notifier: NotifierFactory) -> None:
    """reloading() sends RELOADING=1 with MONOTONIC_USEC from CLOCK_MONOTONIC."""
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    with notify_socket(tmp_path) as sock:
        notifier = make_notifier(sock.env)
        notifier.reloading()
        message = sock.wait_for("RELOADING", timeout=5)
        after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        assert before <= int(message["MONOTONIC_USEC"]) <= after


def test_extend_timeout(tmp_path: Path, make_notifier: NotifierFactory) -> None:
    """extend_timeout() asks for more time in microseconds."""
    with notify_socket(tmp_path) as sock:
        notifier = make_notifier(sock.env)
        notifier.extend_timeout(2.5)
        assert sock.wait_for("EXTEND_TIMEOUT_USEC", "2500000", timeout=5)


def test_abstract_socket_address(make_notifier: NotifierFactory) -> None:
    """NOTIFY_SOCKET=@name reaches an abstract-namespace socket."""
    name = f"smsd-test-{uuid.uuid4().hex}"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        server.bind("\0" + name)
        server.settimeout(5)
        notifier = make_notifier({"NOTIFY_SOCKET": "@" + name})
        assert notifier.watchdog()
        assert server.recv(1024) == b"WATCHDOG=1"
    finally:
        server.close()


def test_send_error_is_logged_once_and_never_raised(
    tmp_path: Path, make_notifier: NotifierFactory
) -> None:
    """A missing socket makes sends return False and logs notify_failed once per failure run."""
    missing = str(tmp_path / "gone.sock")
    notifier = make_notifier({"NOTIFY_SOCKET": missing})
    with capture_logs() as logs:
        assert notifier.ready() is False
        assert notifier.watchdog() is False
        assert notifier.status("x") is False
    failures = [entry for entry in logs if entry["event"] == "notify_failed"]
    assert len(failures) == 1
    assert failures[0]["socket"] == missing
    assert failures[0]["log_level"] == "warning"


def test_failure_logged_again_after_recovery(
    tmp_path: Path, make_notifier: NotifierFactory
) -> None:
    """After a successful send, a new failure is reported again."""
    with notify_socket(tmp_path) as sock:
        notifier = make_notifier(sock.env)
        with capture_logs() as logs:
            Path(sock.path).rename(tmp_path / "moved.sock")
            assert notifier.watchdog() is False
            assert notifier.watchdog() is False
            (tmp_path / "moved.sock").rename(sock.path)
            assert notifier.watchdog() is True
            Path(sock.path).rename(tmp_path / "moved.sock")
            assert notifier.watchdog() is False
            (tmp_path / "moved.sock").rename(sock.path)
        assert [entry["event"] for entry in logs] == ["notify_failed", "notify_failed"]


def test_watchdog_interval_in_seconds(make_notifier: NotifierFactory) -> None:
    """WATCHDOG_USEC becomes seconds when WATCHDOG_PID is absent or names this process."""
    mine = {"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}
    assert make_notifier(mine).watchdog_interval() == 30.0
    assert make_notifier({"WATCHDOG_USEC": "1500000"}).watchdog_interval() == 1.5


def test_watchdog_interval_for_another_process_or_invalid(make_notifier: NotifierFactory) -> None:
    """The interval is None when WATCHDOG_PID is someone else or the values are invalid."""
    other = {"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid() + 1)}
    assert make_notifier(other).watchdog_interval() is None
    for bad in ({"WATCHDOG_USEC": "soon"}, {"WATCHDOG_USEC": "0"}, {"WATCHDOG_USEC": ""}):
        assert make_notifier(bad).watchdog_interval() is None
    assert make_notifier({"WATCHDOG_USEC": "5", "WATCHDOG_PID": "me"}).watchdog_interval() is None


def test_long_tmp_path_gets_short_socket(tmp_path: Path, make_notifier: NotifierFactory) -> None:
    """The helper falls back to a short directory when tmp_path exceeds sun_path."""
    deep = tmp_path / ("d" * 120)
    deep.mkdir()
    with notify_socket(deep) as sock:
        assert len(sock.path) < 108
        notifier = make_notifier(sock.env)
        notifier.ready()
        assert sock.wait_for("READY", timeout=5) == {"READY": "1"}
