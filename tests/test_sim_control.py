"""The simulator's control socket, its faults and each profile's boot noise, over a real pty."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial
from test_sim import DEADLINE, Wire, open_wire, send_pdu

from modem.pdu import encode_submit
from modem.sim import PROFILES, SimModem, SimNotRunning, control_request


@pytest.fixture
def linked(tmp_path: Path) -> Iterator[SimModem]:
    """A quiet generic simulator with a link and the default control path next to it."""
    with SimModem("generic", link=str(tmp_path / "sim0"), noise=False, urc_mid_reply=0.0) as sim:
        yield sim


def test_control_path_defaults_next_to_the_link(linked: SimModem, tmp_path: Path) -> None:
    """control = link + ".ctl"; the link points at the pty; the socket is owner-only."""
    assert linked.control_path == str(tmp_path / "sim0.ctl")
    assert os.path.realpath(tmp_path / "sim0") == linked.device_path
    assert os.stat(linked.control_path).st_mode & 0o777 == 0o600


def test_control_from_another_thread(linked: SimModem) -> None:
    """deliver, sent, stats and fault work through the socket from another thread."""
    assert linked.control_path is not None
    path = linked.control_path
    wire = open_wire(linked)
    wire.cmd("AT+CNMI=2,1,0,0,0")
    answers: list[dict[str, object]] = []
    request = {"op": "deliver", "from": "+447700900123", "text": "PIZZA"}
    worker = threading.Thread(target=lambda: answers.append(control_request(path, request)))
    worker.start()
    worker.join(DEADLINE)
    assert answers == [{"ok": True, "parts": 1}]
    wire.read_until(b'+CMTI: "SM",1\r\n')
    pdu = encode_submit("+447700900123", "your code")[0]
    send_pdu(wire, pdu.hex, pdu.tpdu_length)
    sent = control_request(path, {"op": "sent"})
    assert [m["text"] for m in sent["sent"]] == ["your code"] and sent["pdus"] == [pdu.hex]
    stats = control_request(path, {"op": "stats"})
    assert stats["stats"]["commands"] == 3 and stats["commands"]["AT+CMGS"] == 1
    assert control_request(path, {"op": "fault", "name": "cms_error", "code": 21}) == {"ok": True}
    assert b"+CMS ERROR: 21" in send_pdu(wire, pdu.hex, pdu.tpdu_length)
    wire.close()


def test_bad_requests_are_answered_not_fatal(linked: SimModem) -> None:
    """Unknown ops, unknown faults, missing fields and non-JSON get ok=false; serving goes on."""
    assert linked.control_path is not None
    path = linked.control_path
    assert control_request(path, {"op": "nope"})["ok"] is False
    assert "unknown fault" in control_request(path, {"op": "fault", "name": "meteor"})["error"]
    assert control_request(path, {"op": "deliver", "from": "+44"})["ok"] is False
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(path)
        sock.sendall(b"{not json\n")
        assert b'"ok": false' in sock.makefile("rb").readline()
    assert control_request(path, {"op": "ping"})["device"] == linked.device_path


def test_control_request_without_a_simulator(tmp_path: Path) -> None:
    """A clear ConnectionError subclass when nothing listens."""
    with pytest.raises(SimNotRunning, match="no simulated modem is listening"):
        control_request(str(tmp_path / "absent.ctl"), {"op": "stats"})
    assert issubclass(SimNotRunning, ConnectionError)


def test_reboot_restores_power_up_state_and_keeps_storage(linked: SimModem) -> None:
    """After a reboot echo is on again and CNMI is reset; stored SMS are still there."""
    wire = open_wire(linked)
    wire.cmd("AT+CNMI=2,1,0,2,0")
    linked.deliver("+447700900123", "kept")
    wire.read_until(b'+CMTI: "SM",1\r\n')
    linked.fault("reboot")
    assert linked.wait_booted(DEADLINE)
    assert wire.cmd("AT") == b"AT\r\r\nOK\r\n"
    assert b"+CNMI: 0,0,0,0,0" in wire.cmd("AT+CNMI?")
    assert b"+CMGL: 1,0,," in wire.cmd("AT+CMGL=4")
    wire.close()


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_each_profile_boot_noise(name: str) -> None:
    """A reboot emits the profile's boot lines (RDY, SMS Ready, +QIND, ^BOOT...)."""
    with SimModem(name, noise=False) as sim:
        wire = open_wire(sim)
        sim.fault("reboot")
        for line in PROFILES[name].boot_lines:
            wire.read_until(f"\r\n{line}\r\n".encode())
        assert sim.wait_booted(DEADLINE)
        assert wire.cmd("AT").endswith(b"\r\nOK\r\n")  # echo is back on: "AT\r" first
        wire.close()


def test_profile_prompts_and_unsupported_replies() -> None:
    """Telit prompts with a bare '>' and echoes an extra LF; Huawei says COMMAND NOT SUPPORT."""
    with SimModem("telit", noise=False, cmgs_delay=0.01) as sim:
        assert sim.wait_booted(DEADLINE)
        wire = Wire(sim.device_path)
        assert wire.cmd("AT").endswith(b"AT\r\n\r\nOK\r\n")  # boot lines may come first
        wire.cmd("ATE0")
        wire.port.write(b"AT+CMGS=20\r")
        assert wire.read_until(b">") == b"\r\n>"
        wire.port.write(b"\x1b")
        wire.close()
    with SimModem("huawei", noise=False) as sim:
        wire = open_wire(sim)
        assert wire.cmd("AT+FOO").endswith(b"\r\nCOMMAND NOT SUPPORT\r\n")
        assert wire.cmd("AT^CURC=0") == b"\r\nOK\r\n"
        assert b"+CMGL: 0,0,," in (sim.deliver("+447700900123", "x") and wire.cmd("AT+CMGL=4"))
        wire.close()


def test_hang_until_unhang_and_for_seconds(linked: SimModem) -> None:
    """A hung modem counts commands but never answers; URCs still come; unhang ends it."""
    wire = open_wire(linked)
    wire.cmd("AT+CNMI=2,1,0,0,0")
    linked.fault("hang")
    wire.port.write(b"AT+CMGR=1\r")
    linked.deliver("+447700900123", "while hung")
    assert wire.quiet_for(0.1) == b'\r\n+CMTI: "SM",1\r\n'
    assert linked.command_counts["AT+CMGR"] == 1 and linked.stats["unanswered"] == 1
    linked.fault("unhang")
    assert wire.cmd("AT") == b"\r\nOK\r\n"
    linked.fault("hang", seconds=0.1)
    deadline = time.monotonic() + DEADLINE
    while linked.hung:
        assert time.monotonic() < deadline, "the hang never ended"
        wire.quiet_for(0.02)
    assert wire.cmd("AT") == b"\r\nOK\r\n"
    wire.close()


def test_unplug_gives_eio_and_replug_repoints_the_link(linked: SimModem) -> None:
    """Unplug: the reader fails and the link goes; replug: a new pty behind the same link."""
    assert linked.link is not None
    wire = open_wire(linked)
    linked.fault("unplug")
    with pytest.raises(serial.SerialException):
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            wire.port.read(1)
    wire.port.close()
    assert not os.path.lexists(linked.link)
    linked.fault("replug")
    assert os.path.realpath(linked.link) == linked.device_path  # the kernel may reuse the name
    assert linked.wait_booted(DEADLINE)
    again = Wire(linked.link)
    assert again.cmd("AT") == b"AT\r\r\nOK\r\n"
    again.close()


def test_garbage_is_not_utf8(linked: SimModem) -> None:
    """The garbage fault emits bytes that do not decode, then the modem still answers."""
    wire = open_wire(linked)
    linked.fault("garbage", count=40)
    data = wire.read_until(re.compile(rb"[\x00-\xff]{40}"))
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert wire.cmd("AT").endswith(b"\r\nOK\r\n")
    wire.close()


def test_storage_full_fault_defers_until_storage_ok(linked: SimModem) -> None:
    """With storage_full nothing is stored; storage_ok lets the waiting message in."""
    wire = open_wire(linked)
    wire.cmd("AT+CNMI=2,1,0,0,0")
    linked.fault("storage_full")
    linked.deliver("+447700900123", "waiting")
    assert linked.stats["memory_full"] == 1 and wire.quiet_for(0.05) == b""
    linked.fault("storage_ok")
    wire.read_until(b'+CMTI: "SM",1\r\n')
    wire.close()


def test_slow_send_and_prompt_timeout(linked: SimModem) -> None:
    """slow_send delays +CMGS; prompt_timeout withholds the prompt until ESC."""
    wire = open_wire(linked)
    pdu = encode_submit("+447700900123", "slow")[0]
    linked.fault("slow_send", seconds=0.2)
    started = time.monotonic()
    assert b"+CMGS: 0" in send_pdu(wire, pdu.hex, pdu.tpdu_length)
    assert time.monotonic() - started >= 0.2
    linked.fault("prompt_timeout")
    wire.port.write(f"AT+CMGS={pdu.tpdu_length}\r".encode())
    assert wire.quiet_for(0.1) == b""
    wire.port.write(b"\x1b")
    assert wire.cmd("AT") == b"\r\nOK\r\n"
    assert linked.stats["prompts_withheld"] == 1
    wire.close()


def test_serve_forever_returns_on_stop(tmp_path: Path) -> None:
    """serve_forever() blocks until stop() (signals are only hooked on the main thread)."""
    sim = SimModem("generic", link=str(tmp_path / "s"), noise=False)
    sim.start()
    runner = threading.Thread(target=sim.serve_forever)
    runner.start()
    sim.stop()
    runner.join(DEADLINE)
    assert not runner.is_alive() and not os.path.exists(tmp_path / "s.ctl")
