"""The Modem's PIN, status, stored-message and injection handling, on a real pty."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from modemkit import OK, Urcs
from ptypeer import PtyPeer
from structlog.testing import capture_logs

from modem.at import Urc
from modem.errors import AtError, CmeError, CmsError, PinError, PortClosed
from modem.modem import Modem
from modem.operations import forget_refused_pins
from modem.settings import ModemSettings
from modem.status import ModemStatus, StoredMessage
from modem.transport import open_port


def test_cms_and_cme_errors_carry_codes(peer: PtyPeer, make_modem: Callable[..., Modem]) -> None:
    """+CMS/+CME ERROR raise CmsError/CmeError with the numeric code; ERROR raises AtError."""
    peer.on("AT+CMGR=3", b"\r\n+CMS ERROR: 500\r\n")
    peer.on("AT+CGSN", b"\r\n+CME ERROR: SIM busy\r\n")
    peer.on("AT+FOO", b"\r\nERROR\r\n")
    modem = make_modem()
    with pytest.raises(CmsError) as cms:
        modem.read_stored(3)
    assert cms.value.code == 500
    with pytest.raises(CmeError) as cme:
        modem.command("AT+CGSN")
    assert cme.value.code == 14
    with pytest.raises(AtError):
        modem.command("AT+FOO")


def test_pin_entered_once(peer: PtyPeer, make_modem: Callable[..., Modem]) -> None:
    """SIM PIN: the configured PIN is sent once, then SMS setup retries while SIM busy."""
    peer.once("AT+CPIN?", b"\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n")
    peer.on('AT+CPIN="1234"', OK)
    peer.once("AT+CMGF=0", b"\r\n+CMS ERROR: 515\r\n")
    peer.once("AT+CMGF=0", b"\r\n+CME ERROR: 14\r\n")
    modem = make_modem(pin="1234")
    modem.initialise()
    assert peer.count('AT+CPIN="1234"') == 1
    assert peer.count("AT+CMGF=0") == 3
    assert "AT+CNMI=2,1,0,2,0" in peer.received


def test_wrong_pin_never_retried(peer: PtyPeer, make_modem: Callable[..., Modem]) -> None:
    """A refused PIN raises PinError and is never sent a second time."""
    peer.on("AT+CPIN?", b"\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n")
    peer.on('AT+CPIN="0000"', b"\r\n+CME ERROR: 16\r\n")
    modem = make_modem(pin="0000")
    with capture_logs() as logs, pytest.raises(PinError):
        modem.initialise()
    again = Modem(modem.settings)  # as after a reconnect: a new Modem on the same port
    with pytest.raises(PinError):
        again.initialise()
    assert peer.count('AT+CPIN="0000"') == 1
    assert "0000" not in repr(logs)
    forget_refused_pins()  # pty paths are reused by later tests


@pytest.mark.parametrize(
    ("state", "pin"), [(b"SIM PIN", None), (b"SIM PUK", "1234"), (b"PH-SIM PIN", "1234")]
)
def test_pin_error_without_sending(
    peer: PtyPeer, make_modem: Callable[..., Modem], state: bytes, pin: str | None
) -> None:
    """No PIN configured, or a PUK is wanted: PinError and nothing is sent."""
    peer.on("AT+CPIN?", b"\r\n+CPIN: " + state + b"\r\n\r\nOK\r\n")
    modem = make_modem(pin=pin)
    with pytest.raises(PinError):
        modem.initialise()
    assert not [c for c in peer.received if c.startswith("AT+CPIN=")]


def test_status(peer: PtyPeer, make_modem: Callable[..., Modem]) -> None:
    """status() parses identity, registration (falls back to CEREG), operator, dBm, storage."""
    peer.on("AT+CGMI", b"\r\nQuectel\r\n\r\nOK\r\n")
    peer.on("AT+CGMM", b"\r\n+CGMM: EC25\r\n\r\nOK\r\n")
    peer.on("AT+CGSN", b"\r\n867000000000001\r\n\r\nOK\r\n")
    peer.on("AT+CREG?", b"\r\n+CREG: 0,2\r\n\r\nOK\r\n")
    peer.on("AT+CGREG?", b"\r\n+CME ERROR: 4\r\n")
    peer.on("AT+CEREG?", b"\r\n+CEREG: 0,5\r\n\r\nOK\r\n")
    peer.on("AT+COPS?", b'\r\n+COPS: 0,0,"Vodafone, UK",7\r\n\r\nOK\r\n')
    peer.on("AT+CPMS?", b'\r\n+CPMS: "SM",3,20,"SM",3,20,"SM",3,20\r\n\r\nOK\r\n')
    assert make_modem().status() == ModemStatus(
        manufacturer="Quectel",
        model="EC25",
        imei="867000000000001",
        sim="READY",
        registration="roaming",
        operator="Vodafone, UK",
        signal_dbm=-73,
        storage_used=3,
        storage_total=20,
    )


def test_read_and_delete_stored(peer: PtyPeer, make_modem: Callable[..., Modem]) -> None:
    """read_stored parses +CMGR, empty slots give None; delete_stored sends AT+CMGD=<i>."""
    peer.on("AT+CMGR=2", b"\r\n+CMGR: 1,,20\r\n0791ab\r\n\r\nOK\r\n")
    peer.on("AT+CMGR=5", OK)
    peer.on("AT+CMGR=6", b"\r\n+CMS ERROR: 321\r\n")
    peer.on("AT+CMGD=2", OK)
    modem = make_modem()
    assert modem.read_stored(2) == StoredMessage(2, 1, "0791AB")
    assert modem.read_stored(5) is None
    assert modem.read_stored(6) is None
    modem.delete_stored(2)
    assert "AT+CMGD=2" in peer.received


@pytest.mark.parametrize("bad", [-1, True, "1,4", 1.0, 70000])
def test_delete_stored_validates_index(make_modem: Callable[..., Modem], bad: object) -> None:
    """Only plain non-negative ints reach AT+CMGD."""
    with pytest.raises(ValueError):
        make_modem().delete_stored(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad",
    ["AT+CMGD=1,4", "AT+CMGD=1,1", "AT\r\nAT+CMGD=1", "AT+CSQ\x1a", "AT\x1b", "ATE0\n", "CSQ"],
)
def test_command_injection_refused(make_modem: Callable[..., Modem], bad: str) -> None:
    """Control bytes, bulk deletes and non-AT lines are refused before anything is written."""
    with pytest.raises(ValueError):
        make_modem().command(bad)


def test_ack_and_direct_delivery(
    peer: PtyPeer, make_modem: Callable[..., Modem], urcs: Urcs
) -> None:
    """+CMT with its PDU reaches on_urc as one event; ack() sends AT+CNMA."""
    modem = make_modem()
    peer.send(b"\r\n+CMT: ,20\r\n07914477AB\r\n")
    assert urcs.wait("+CMT").pdu == "07914477AB"
    modem.ack()
    assert "AT+CNMA" in peer.received


def test_probe(peer: PtyPeer, make_modem: Callable[..., Modem]) -> None:
    """probe() is True on a live modem and False once it hangs."""
    modem = make_modem()
    assert modem.probe()
    peer.hang()
    assert not modem.probe(timeout=0.3)


def test_transport_errors_become_port_closed(peer: PtyPeer) -> None:
    """A missing device and a second opener (exclusive lock) raise PortClosed from the cause."""
    with pytest.raises(PortClosed) as missing:
        open_port("/dev/does-not-exist-smsactive")
    assert missing.value.__cause__ is not None
    first = open_port(peer.path)
    try:
        with pytest.raises(PortClosed):
            open_port(peer.path)
    finally:
        first.close()


def test_open_port_loop_url() -> None:
    """serial_for_url URLs work: loop:// echoes what is written."""
    port = open_port("loop://", timeout=0.5)
    try:
        port.write(b"AT\r")
        assert port.read(3) == b"AT\r"
    finally:
        port.close()


def test_initialise_waits_for_booting_modem(
    peer: PtyPeer, make_modem: Callable[..., Modem]
) -> None:
    """A modem that drops input while booting is probed with AT until it answers."""
    peer.once("AT")
    peer.once("AT")
    modem = make_modem()
    modem.RESYNC_RETRY = 0.1
    modem.initialise()
    assert peer.count("AT") >= 3
    assert peer.count("ATE0") == 1


def test_on_urc_calling_modem_is_refused(peer: PtyPeer) -> None:
    """on_urc runs on the reader thread: calling the modem there fails fast, not deadlocks."""
    failures: list[BaseException] = []
    done = threading.Event()
    modem: Modem

    def handler(urc: Urc) -> None:
        if urc.name == "RING":
            try:
                modem.command("AT")
            except RuntimeError as exc:
                failures.append(exc)
            done.set()

    modem = Modem(ModemSettings(url=peer.path, command_timeout=2.0), on_urc=handler)
    modem.open()
    try:
        peer.send(b"\r\nRING\r\n")
        assert done.wait(5)
        assert failures and modem.command("AT") == []
    finally:
        modem.close()


def test_close_twice_and_reopen(peer: PtyPeer, make_modem: Callable[..., Modem]) -> None:
    """close() is idempotent and the same Modem can open the port again."""
    modem = make_modem()
    modem.close()
    modem.close()
    assert modem.lost.is_set() and modem.lost_reason == "closed"
    modem.open()
    assert not modem.lost.is_set()
    assert modem.command("AT+CSQ") == ["+CSQ: 20,99"]
