"""The Modem through real pyserial on a real pty, against the scripted peer in ptypeer."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from ptypeer import PtyPeer
from structlog.testing import capture_logs

from modem.at import Urc
from modem.errors import AtError, CmeError, CmsError, ModemTimeout, PinError, PortClosed
from modem.modem import Modem
from modem.operations import forget_refused_pins
from modem.settings import ModemSettings
from modem.status import ModemStatus, StoredMessage
from modem.transport import open_port

OK = b"\r\nOK\r\n"


@dataclass(frozen=True)
class FakePdu:
    """Stands in for modem.pdu.EncodedPdu (the Modem only needs hex and tpdu_length)."""

    hex: str
    tpdu_length: int


PDU = FakePdu("00" + "11000B914477009001F20000AA05E8329BFD06", 19)


class Urcs:
    """Collects URCs from the reader thread; lets a test wait for one."""

    def __init__(self) -> None:
        self.queue: queue.Queue[Urc] = queue.Queue()

    def __call__(self, urc: Urc) -> None:
        self.queue.put(urc)

    def wait(self, name: str, timeout: float = 5.0) -> Urc:
        """The next URC called ``name`` (others are skipped); fails after ``timeout``."""
        while True:
            urc = self.queue.get(timeout=timeout)
            if urc.name == name:
                return urc


@pytest.fixture
def peer() -> Iterator[PtyPeer]:
    """A started scripted peer."""
    with PtyPeer() as p:
        yield p


@pytest.fixture
def urcs() -> Urcs:
    """A URC collector."""
    return Urcs()


@pytest.fixture
def make_modem(peer: PtyPeer, urcs: Urcs) -> Iterator[Callable[..., Modem]]:
    """Build and open a Modem on the peer's pty with short timeouts; closed afterwards."""
    opened: list[Modem] = []

    def make(**overrides: object) -> Modem:
        options: dict[str, object] = {"command_timeout": 2.0, "prompt_timeout": 1.0}
        options.update(overrides)
        settings = ModemSettings(url=peer.path, **options)  # type: ignore[arg-type]
        modem = Modem(settings, on_urc=urcs)
        modem.SIM_RETRY_INTERVAL = 0.05
        modem.RESYNC_QUIET = 0.05
        modem.open()
        opened.append(modem)
        return modem

    yield make
    for modem in opened:
        modem.close()


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
