"""The simulated modem over a real pty with plain pyserial: AT, sending, storage, URCs."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
import serial

from modem.pdu import SmsDeliver, SmsStatusReport, decode_pdu, encode_submit
from modem.sim import SimModem

FINAL = re.compile(
    rb"\r\n(OK|ERROR|\+CMS ERROR: [^\r]*|\+CME ERROR: [^\r]*|COMMAND NOT SUPPORT)\r\n"
)
DEADLINE = 3.0


class Wire:
    """A pyserial connection to the simulator with deadline-bounded reads."""

    def __init__(self, path: str) -> None:
        self.port = serial.Serial(path, 115200, timeout=0.02)
        self.buffer = b""

    def close(self) -> None:
        self.port.close()

    def read_until(self, pattern: bytes | re.Pattern[bytes], timeout: float = DEADLINE) -> bytes:
        """Read until ``pattern`` matches the bytes read so far; return them and consume them."""
        regex = pattern if isinstance(pattern, re.Pattern) else re.compile(re.escape(pattern))
        deadline = time.monotonic() + timeout
        while True:
            match = regex.search(self.buffer)
            if match:
                data, self.buffer = self.buffer[: match.end()], self.buffer[match.end() :]
                return data
            if time.monotonic() > deadline:
                raise AssertionError(f"no {regex.pattern!r} within {timeout}s in {self.buffer!r}")
            self.buffer += self.port.read(self.port.in_waiting or 1)

    def quiet_for(self, seconds: float) -> bytes:
        """Everything that arrives within ``seconds`` (to prove that nothing does)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.buffer += self.port.read(self.port.in_waiting or 1)
        data, self.buffer = self.buffer, b""
        return data

    def cmd(self, command: str, timeout: float = DEADLINE) -> bytes:
        """Send a command line and return everything up to and including its final result."""
        self.port.write(command.encode() + b"\r")
        return self.read_until(FINAL, timeout)


def open_wire(sim: SimModem, *, echo: bool = False) -> Wire:
    """Open the device once the modem has booted; echo off unless asked."""
    assert sim.wait_booted(DEADLINE)
    wire = Wire(sim.device_path)
    reply = wire.cmd("ATE1" if echo else "ATE0")
    assert reply.endswith(b"\r\nOK\r\n")
    return wire


@pytest.fixture
def sim() -> Iterator[SimModem]:
    """A quiet generic simulator (no noise, no URC injection)."""
    modem = SimModem("generic", noise=False, urc_mid_reply=0.0)
    modem.start()
    yield modem
    modem.stop()


@pytest.fixture
def wire(sim: SimModem) -> Iterator[Wire]:
    """pyserial on the simulator's pty, echo off."""
    connection = open_wire(sim)
    yield connection
    connection.close()


def send_pdu(wire: Wire, hex_pdu: str, length: int) -> bytes:
    """Run one AT+CMGS exchange and return the reply after Ctrl-Z."""
    wire.port.write(f"AT+CMGS={length}\r".encode())
    wire.read_until(b"\r\n> ")
    wire.port.write(hex_pdu.encode() + b"\x1a")
    return wire.read_until(FINAL)


def test_echo_is_on_after_power_up_and_ate0_turns_it_off(sim: SimModem) -> None:
    """A fresh modem echoes the command; after ATE0 it does not."""
    wire = Wire(sim.device_path)
    try:
        assert wire.cmd("AT") == b"AT\r\r\nOK\r\n"
        assert wire.cmd("ATE0") == b"ATE0\r\r\nOK\r\n"
        assert wire.cmd("AT") == b"\r\nOK\r\n"
    finally:
        wire.close()


def test_unknown_command_is_error_and_cme_with_cmee(wire: Wire) -> None:
    """Unknown commands answer ERROR, or +CME ERROR once CMEE is on."""
    assert wire.cmd("AT+FOO").endswith(b"\r\nERROR\r\n")
    wire.cmd("AT+CMEE=1")
    assert wire.cmd("AT+FOO").endswith(b"+CME ERROR: 4\r\n")
    wire.cmd("AT+CMEE=2")
    assert wire.cmd("AT+FOO").endswith(b"+CME ERROR: operation not supported\r\n")


def test_queries_answer_like_a_modem(wire: Wire) -> None:
    """Identity, signal, registration and storage queries return their info lines."""
    assert b"+CSQ: 21,99" in wire.cmd("AT+CSQ")
    assert b"+CREG: 0,1" in wire.cmd("AT+CREG?")
    assert b'+COPS: 0,0,"SIMNET",2' in wire.cmd("AT+COPS?")
    assert b"smsactive" in wire.cmd("AT+CGMI")
    assert b'+CPMS: "SM",0,20' in wire.cmd("AT+CPMS?")
    assert b"+CPMS: 0,20,0,20,0,20" in wire.cmd('AT+CPMS="SM","SM","SM"')
    assert wire.cmd("AT+CNMI=2,1,0,2,0") == b"\r\nOK\r\n"
    assert b"+CNMI: 2,1,0,2,0" in wire.cmd("AT+CNMI?")


def test_cmgs_round_trip_is_decoded_by_sent(sim: SimModem, wire: Wire) -> None:
    """The prompt has no line end; +CMGS carries a TP-MR that counts up; sent() decodes."""
    pdu = encode_submit("+447700900123", "hello")[0]
    wire.port.write(f"AT+CMGS={pdu.tpdu_length}\r".encode())
    assert wire.read_until(b"> ") == b"\r\n> "
    assert wire.quiet_for(0.05) == b""  # nothing after the prompt: no CRLF
    wire.port.write(pdu.hex.encode() + b"\x1a")
    assert wire.read_until(FINAL) == b"\r\n+CMGS: 0\r\n\r\nOK\r\n"
    assert b"+CMGS: 1" in send_pdu(wire, pdu.hex, pdu.tpdu_length)
    sent = sim.sent()
    assert [m["to"] for m in sent] == ["+447700900123"] * 2
    assert sent[0]["text"] == "hello" and sent[0]["references"] == [0]
    assert sim.sent_pdus() == [pdu.hex, pdu.hex]


def test_multipart_send_is_reassembled(sim: SimModem, wire: Wire) -> None:
    """Parts sharing a concat reference come back as one message with every TP-MR."""
    text = "".join(f"word{i} " for i in range(60))
    pdus = encode_submit("+447700900123", text, concat_reference=42)
    assert len(pdus) > 1
    for pdu in pdus:
        assert b"OK" in send_pdu(wire, pdu.hex, pdu.tpdu_length)
    [message] = sim.sent()
    assert message["text"] == text and message["parts"] == len(pdus) and message["complete"]
    assert message["references"] == list(range(len(pdus)))


def test_mr_wraps_after_255(sim: SimModem, wire: Wire) -> None:
    """TP-MR is 0..255 and wraps."""
    sim.network.next_mr = 255
    pdu = encode_submit("+447700900123", "x")[0]
    assert b"+CMGS: 255" in send_pdu(wire, pdu.hex, pdu.tpdu_length)
    assert b"+CMGS: 0\r" in send_pdu(wire, pdu.hex, pdu.tpdu_length)


def test_esc_cancels_and_bad_length_is_refused(sim: SimModem, wire: Wire) -> None:
    """ESC after the prompt sends nothing; a length that does not match is +CMS ERROR: 304."""
    pdu = encode_submit("+447700900123", "hello")[0]
    wire.port.write(f"AT+CMGS={pdu.tpdu_length}\r".encode())
    wire.read_until(b"> ")
    wire.port.write(pdu.hex.encode() + b"\x1b")
    assert wire.cmd("AT") == b"\r\nOK\r\n"
    assert b"+CMS ERROR: 304" in send_pdu(wire, pdu.hex, pdu.tpdu_length + 1)
    assert sim.sent() == [] and sim.stats["sends_cancelled"] == 1


def _indexes(data: bytes) -> list[int]:
    return [int(i) for i in re.findall(rb'\+CMTI: "SM",(\d+)', data)]


def test_deliver_cmti_then_list_read_delete(sim: SimModem, wire: Wire) -> None:
    """A delivered SMS is stored, announced, listed, read and deleted by index."""
    wire.cmd("AT+CNMI=2,1,0,2,0")
    assert sim.deliver("+447700900123", "PIZZA") == 1
    assert _indexes(wire.read_until(re.compile(rb'\+CMTI: "SM",\d+\r\n'))) == [1]
    listing = wire.cmd("AT+CMGL=4").split(b"\r\n")
    assert listing[1].startswith(b"+CMGL: 1,0,,")
    message = decode_pdu(listing[2].decode())
    assert isinstance(message, SmsDeliver)
    assert (message.sender.number, message.text) == ("+447700900123", "PIZZA")
    assert b"+CMGR: 1,," in wire.cmd("AT+CMGR=1")  # listed once: now REC READ
    assert wire.cmd("AT+CMGD=1") == b"\r\nOK\r\n"
    assert wire.cmd("AT+CMGR=1") == b"\r\nOK\r\n"
    assert b"+CMS ERROR: 321" in wire.cmd("AT+CMGR=99")


def test_multipart_deliver_in_a_given_order(sim: SimModem, wire: Wire) -> None:
    """``order`` permutes the parts; each carries its concat sequence number."""
    wire.cmd("AT+CNMI=2,1,0,2,0")
    text = "long " * 60
    assert sim.deliver("+447700900123", text, order=[2, 1]) == 2
    wire.read_until(b'+CMTI: "SM",2\r\n')
    lines = wire.cmd("AT+CMGL=4").split(b"\r\n")
    parts = [decode_pdu(line.decode()) for line in (lines[2], lines[4])]
    assert all(isinstance(p, SmsDeliver) for p in parts)
    seqs = [p.concat.sequence for p in parts if isinstance(p, SmsDeliver) and p.concat]
    assert seqs == [2, 1]
    with pytest.raises(ValueError, match="permutation"):
        sim.deliver("+447700900123", text, order=[1, 1])


def test_full_storage_defers_delivery_until_a_slot_frees() -> None:
    """With every slot taken the message waits in the network and arrives after a delete."""
    with SimModem("generic", storage_size=1, noise=False, urc_mid_reply=0.0) as sim:
        wire = open_wire(sim)
        wire.cmd("AT+CNMI=2,1,0,2,0")
        sim.deliver("+447700900123", "first")
        sim.deliver("+447700900124", "second")
        assert _indexes(wire.read_until(b'\r\n+CMTI: "SM",1\r\n')) == [1]
        assert sim.stats["memory_full"] == 1 and sim.stats["pending"] == 1
        wire.cmd("AT+CMGD=1")
        assert _indexes(wire.read_until(b'\r\n+CMTI: "SM",1\r\n')) == [1]
        pdu = wire.cmd("AT+CMGR=1").split(b"\r\n")[2].decode()
        assert getattr(decode_pdu(pdu), "text", None) == "second"
        assert sim.stats["pending"] == 0
        wire.close()


def test_bulk_delete_is_recorded_as_forbidden(sim: SimModem, wire: Wire) -> None:
    """AT+CMGD=1,4 works like on a modem but lands in the forbidden list."""
    sim.deliver("+447700900123", "PIZZA")
    assert wire.cmd("AT+CMGD=1,4") == b"\r\nOK\r\n"
    assert sim.forbidden == ["AT+CMGD=1,4"] and sim.stats["storage_used"] == 0
    wire.cmd("AT+CMGD=1")
    assert sim.stats["forbidden"] == 1


def test_direct_delivery_needs_cnma(sim: SimModem, wire: Wire) -> None:
    """+CMT carries the PDU; AT+CNMA acknowledges it; a stray CNMA is +CMS ERROR: 340."""
    wire.cmd("AT+CNMI=2,2,0,1,0")
    sim.deliver("+447700900123", "hi")
    urc = wire.read_until(re.compile(rb"\+CMT: ,\d+\r\n[0-9A-F]+\r\n"))
    pdu = urc.split(b"\r\n")[-2].decode()
    assert getattr(decode_pdu(pdu), "text", None) == "hi"
    assert wire.cmd("AT+CNMA") == b"\r\nOK\r\n"
    assert b"+CMS ERROR: 340" in wire.cmd("AT+CNMA")
    assert sim.stats["storage_used"] == 0


def test_status_report_follows_a_send_that_asked(sim: SimModem, wire: Wire) -> None:
    """With ds=1 a SUBMIT asking for a report gets +CDS with the outcome chosen."""
    wire.cmd("AT+CNMI=2,1,0,1,0")
    sim.status_report("failed")
    pdu = encode_submit("+447700900123", "hello", status_report=True)[0]
    mr = int(re.findall(rb"\+CMGS: (\d+)", send_pdu(wire, pdu.hex, pdu.tpdu_length))[0])
    urc = wire.read_until(re.compile(rb"\+CDS: \d+\r\n[0-9A-F]+\r\n"))
    report = decode_pdu(urc.split(b"\r\n")[-2].decode())
    assert isinstance(report, SmsStatusReport)
    assert (report.reference, report.status, report.state) == (mr, 0x41, "failed")
    assert wire.cmd("AT+CNMA") == b"\r\nOK\r\n"
    assert sim.sent()[0]["status_report"] is True


def test_pin_busy_then_ready_and_three_wrong_lock_to_puk() -> None:
    """SIM PIN blocks SMS; the right PIN makes the SIM busy a while; 3 wrong -> SIM PUK."""
    with SimModem("generic", pin="1234", pin_delay=0.5, noise=False) as sim:
        wire = open_wire(sim)
        wire.cmd("AT+CMEE=1")
        assert b"+CPIN: SIM PIN" in wire.cmd("AT+CPIN?")
        assert b"+CMS ERROR: 311" in wire.cmd("AT+CMGL=4")
        assert b"+CME ERROR: 16" in wire.cmd('AT+CPIN="0000"')
        assert wire.cmd('AT+CPIN="1234"') == b"\r\nOK\r\n"
        assert b"+CMS ERROR: 515" in wire.cmd("AT+CMGL=4")
        deadline = time.monotonic() + DEADLINE
        while b"+CMS ERROR: 515" in (reply := wire.cmd("AT+CMGL=4")):
            assert time.monotonic() < deadline, "the SIM never became ready"
        assert reply == b"\r\nOK\r\n"
        sim.fault("reboot")  # a power cycle locks the SIM again
        assert sim.wait_booted(DEADLINE)
        wire.cmd("AT+CMEE=1")
        assert b"+CPIN: SIM PIN" in wire.cmd("AT+CPIN?")
        for _ in range(3):
            assert b"+CME ERROR: 16" in wire.cmd('AT+CPIN="9999"')
        assert b"+CPIN: SIM PUK" in wire.cmd("AT+CPIN?")
        wire.close()


def test_urc_injected_between_info_and_final() -> None:
    """With injection on, a new +CMTI lands between +CSQ: and OK of the next reply."""
    with SimModem("generic", noise=False, urc_mid_reply=1.0) as sim:
        wire = open_wire(sim)
        wire.cmd("AT+CNMI=2,1,0,0,0")
        sim.deliver("+447700900123", "PIZZA")
        assert wire.cmd("AT+CSQ") == b'\r\n+CSQ: 21,99\r\n\r\n+CMTI: "SM",1\r\n\r\nOK\r\n'
        wire.close()


def _noise_pattern(seed: int) -> list[bool]:
    """Which of 30 replies carried a vendor line right before their final OK."""
    with SimModem("huawei", seed=seed) as sim:
        wire = open_wire(sim)
        replies = [wire.cmd("AT+CSQ") for _ in range(30)]
        wire.close()
    assert all(b"+CSQ: 21,99" in reply for reply in replies)
    return [re.search(rb"\r\n\^[A-Z]+:[^\r]*\r\n\r\nOK\r\n$", r) is not None for r in replies]


def test_huawei_noise_mid_reply_is_reproducible_from_the_seed() -> None:
    """One seed puts ^RSSI/^MODE lines into the same replies; another seed into others."""
    first = _noise_pattern(3)
    assert any(first)
    assert _noise_pattern(3) == first
    assert _noise_pattern(4) != first


def test_command_statistics(sim: SimModem, wire: Wire) -> None:
    """Commands are counted in total and by name."""
    wire.cmd("AT")
    wire.cmd("AT+CSQ")
    wire.cmd("AT+CSQ")
    assert sim.command_counts["AT+CSQ"] == 2 and sim.command_counts["ATE"] == 1
    assert sim.stats["commands"] == 4
