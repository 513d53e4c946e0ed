"""The Modem through real pyserial on a real pty, against the scripted peer in ptypeer."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from modemkit import PDU, Urcs
from ptypeer import PtyPeer
from structlog.testing import capture_logs

from modem.at import Urc
from modem.errors import ModemTimeout, PortClosed
from modem.modem import Modem
from modem.settings import ModemSettings
from modem.status import StoredMessage


def test_command_returns_info_lines(make_modem: Callable[..., Modem]) -> None:
    """A plain command returns its Info lines and counts as a command."""
    modem = make_modem()
    assert modem.command("AT+CSQ") == ["+CSQ: 20,99"]
    assert modem.counters["commands"] >= 1


def test_open_cancels_pdu_input_left_behind(urcs: Urcs) -> None:
    """A modem left at a '> ' prompt gets ESC first, so the next command is not swallowed."""
    with PtyPeer(in_pdu_input=True) as peer:
        modem = Modem(ModemSettings(url=peer.path, command_timeout=2.0), on_urc=urcs)
        modem.open()
        try:
            assert modem.command("AT+CSQ") == ["+CSQ: 20,99"]
            assert peer.received[0] == "<esc>"
        finally:
            modem.close()


def test_urc_between_reply_lines(
    peer: PtyPeer, make_modem: Callable[..., Modem], urcs: Urcs
) -> None:
    """+CMTI between +CMGL lines reaches on_urc and the listing is intact."""
    peer.on(
        "AT+CMGL=4",
        b"\r\n+CMGL: 1,0,,20\r\n0791AA\r\n",
        b'+CMTI: "SM",3\r\n',
        b"+CMGL: 4,1,,20\r\n0791BB\r\n\r\nOK\r\n",
    )
    modem = make_modem()
    assert modem.list_stored() == [StoredMessage(1, 0, "0791AA"), StoredMessage(4, 1, "0791BB")]
    assert urcs.wait("+CMTI").line == '+CMTI: "SM",3'


def test_send_pdu_returns_reference(peer: PtyPeer, make_modem: Callable[..., Modem]) -> None:
    """AT+CMGS=<len>, prompt, PDU + Ctrl-Z; TP-MR comes from +CMGS."""
    modem = make_modem()
    assert modem.send_pdu(PDU) == 42
    assert "AT+CMGS=19" in peer.received
    assert f"<pdu>:{PDU.hex}" in peer.received


def test_cmti_during_cmgs(peer: PtyPeer, make_modem: Callable[..., Modem], urcs: Urcs) -> None:
    """A +CMTI while the modem is sending reaches on_urc; the send still succeeds."""
    peer.on("<pdu>", b'\r\n+CMTI: "SM",7\r\n', b"\r\n+CMGS: 9\r\n\r\nOK\r\n")
    modem = make_modem()
    assert modem.send_pdu(PDU) == 9
    assert urcs.wait("+CMTI").line == '+CMTI: "SM",7'


@pytest.mark.parametrize("prompt", [b"> ", b">", b"\r\n>"])
def test_prompt_variants(peer: PtyPeer, make_modem: Callable[..., Modem], prompt: bytes) -> None:
    """Prompts with or without the space are accepted."""
    peer.on("AT+CMGS=*", prompt)
    assert make_modem().send_pdu(PDU) == 42


def test_echo_on(make_modem: Callable[..., Modem], urcs: Urcs) -> None:
    """With echo on (fresh modem), commands and the PDU exchange still work."""
    with PtyPeer(echo=True) as peer:
        modem = Modem(ModemSettings(url=peer.path, command_timeout=2.0), on_urc=urcs)
        modem.open()
        try:
            assert modem.command("AT+CSQ") == ["+CSQ: 20,99"]
            assert modem.send_pdu(PDU) == 42
        finally:
            modem.close()


def test_prompt_timeout_writes_esc(peer: PtyPeer, make_modem: Callable[..., Modem]) -> None:
    """No prompt: ModemTimeout, and ESC is written so the modem leaves PDU input."""
    peer.on("AT+CMGS=*")
    modem = make_modem(prompt_timeout=0.3)
    with pytest.raises(ModemTimeout):
        modem.send_pdu(PDU)
    assert peer.wait_for(lambda got: "<esc>" in got)
    assert modem.command("AT+CSQ") == ["+CSQ: 20,99"]


def test_slow_cmgs_waits_for_send_timeout(peer: PtyPeer, make_modem: Callable[..., Modem]) -> None:
    """A send slower than command_timeout still completes within send_timeout."""
    gate = threading.Event()
    peer.on("<pdu>", gate, b"\r\n+CMGS: 200\r\n\r\nOK\r\n")
    modem = make_modem(command_timeout=0.2)
    threading.Timer(0.4, gate.set).start()  # the modem's sending delay, not synchronisation
    assert modem.send_pdu(PDU, timeout=5.0) == 200


def test_late_ok_not_given_to_next_command(peer: PtyPeer, make_modem: Callable[..., Modem]) -> None:
    """A timed-out command's late reply never becomes the next command's answer."""
    gate = threading.Event()
    peer.once("AT+CSQ", gate, b"\r\n+CSQ: 1,1\r\n\r\nOK\r\n")
    modem = make_modem()
    with pytest.raises(ModemTimeout):
        modem.command("AT+CSQ", timeout=0.3)
    gate.set()  # the late reply goes out while (or before) the next command starts
    assert modem.command("AT+CSQ") == ["+CSQ: 20,99"]


def test_stale_ok_while_idle_is_drained(
    peer: PtyPeer, make_modem: Callable[..., Modem], urcs: Urcs
) -> None:
    """An unsolicited OK while idle is a stale event, not the next command's final."""
    peer.on("AT+CGMI", b"\r\nQUECTEL\r\n\r\nOK\r\n")
    modem = make_modem()
    assert modem.command("AT") == []
    peer.send(b"\r\n+CGMI: STALE\r\nOK\r\n")
    assert urcs.wait("?").line == "+CGMI: STALE"
    assert modem.command("AT+CGMI") == ["QUECTEL"]


def test_non_utf8_bytes_do_not_kill_reader(
    peer: PtyPeer, make_modem: Callable[..., Modem], urcs: Urcs
) -> None:
    """Garbage and non-UTF-8 bytes are counted; the reader keeps going."""
    modem = make_modem()
    peer.send(b"\r\n\xff\x80\x81\x00\xfe\r\n\xe9\xe8\r\nRING\r\n")
    urcs.wait("RING")
    assert modem.counters["garbage"] >= 1
    assert not modem.lost.is_set()
    assert modem.command("AT+CSQ") == ["+CSQ: 20,99"]


def test_urc_handler_error_is_logged_not_fatal(peer: PtyPeer) -> None:
    """An exception in on_urc is logged and the reader keeps serving."""
    seen = threading.Event()

    def broken(urc: Urc) -> None:
        if urc.name == "RING":
            seen.set()
            raise RuntimeError("bug in user code")

    modem = Modem(ModemSettings(url=peer.path, command_timeout=2.0), on_urc=broken)
    with capture_logs() as logs:
        modem.open()
        try:
            peer.send(b"\r\nRING\r\n")
            assert seen.wait(5)
            assert modem.command("AT+CSQ") == ["+CSQ: 20,99"]
        finally:
            modem.close()
    assert any(entry["event"] == "urc_handler_failed" for entry in logs)


def test_unplug_sets_lost(peer: PtyPeer, make_modem: Callable[..., Modem]) -> None:
    """Closing the pty master ends the reader: lost is set with a reason; commands fail."""
    modem = make_modem()
    with capture_logs() as logs:
        peer.unplug()
        assert modem.lost.wait(5)
    assert modem.lost_reason
    assert any(entry["event"] == "modem_lost" for entry in logs)
    with pytest.raises(PortClosed):
        modem.command("AT")


def test_unplug_during_command_raises_port_closed(
    peer: PtyPeer, make_modem: Callable[..., Modem]
) -> None:
    """A command waiting when the port dies raises PortClosed, not a timeout."""
    peer.on("AT+CSQ")  # never answers
    modem = make_modem(command_timeout=10.0)
    assert modem.command("AT") == []
    threading.Thread(
        target=lambda: peer.wait_for(lambda got: "AT+CSQ" in got) and peer.unplug()
    ).start()
    with pytest.raises(PortClosed):
        modem.command("AT+CSQ")
