"""The modem engine against every simulated dialect, through real pyserial on a pty."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from dataclasses import replace

import pytest

from modem.at import Urc
from modem.errors import CmsError, ModemTimeout
from modem.modem import Modem
from modem.pdu import SmsDeliver, SmsStatusReport, decode_pdu, encode_submit
from modem.settings import ModemSettings
from modem.sim import SimModem

PROFILES = ["generic", "huawei", "simcom", "quectel", "telit"]
HANDSET = "+447700900123"


class Session:
    """A simulator and an initialised Modem on its pty, with the URCs it received."""

    def __init__(self, profile: str, **sim_kw: object) -> None:
        self.sim = SimModem(profile, seed=7, **sim_kw)  # type: ignore[arg-type]
        self.sim.start()
        assert self.sim.wait_booted(10)
        self.urcs: queue.Queue[Urc] = queue.Queue()
        self.settings = ModemSettings(
            url=self.sim.device_path, prompt_timeout=0.5, command_timeout=10.0
        )
        self.modem = Modem(self.settings, on_urc=self.urcs.put)
        self.modem.open()
        self.modem.initialise()

    def wait_urc(self, name: str, timeout: float = 5.0) -> Urc:
        """The next URC called ``name`` (others are skipped), or fail at the deadline."""
        while True:
            try:
                urc = self.urcs.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no {name} within {timeout}s") from None
            if urc.name == name:
                return urc

    def close(self) -> None:
        """Close the modem and stop the simulator."""
        self.modem.close()
        self.sim.stop()


@pytest.fixture(params=PROFILES)
def session(request: pytest.FixtureRequest) -> Iterator[Session]:
    """An initialised session per dialect."""
    s = Session(request.param)
    yield s
    s.close()


def test_send_reaches_network(session: Session) -> None:
    """A SUBMIT goes through the prompt exchange and the simulator decodes our text."""
    (pdu,) = encode_submit(HANDSET, "Hello {World} €5", status_report=False)
    mr = session.modem.send_pdu(pdu)
    assert 0 <= mr <= 255
    sent = session.sim.sent()
    assert [(m["to"], m["text"]) for m in sent] == [(HANDSET, "Hello {World} €5")]


def test_multipart_emoji_send(session: Session) -> None:
    """A long UCS2 reply with emoji goes out as parts and is reassembled intact."""
    text = "Grazie 🍕! " * 20
    pdus = encode_submit(HANDSET, text, concat_reference=42)
    assert len(pdus) > 1
    for pdu in pdus:
        session.modem.send_pdu(pdu)
    (message,) = session.sim.sent()
    assert message["text"] == text and message["parts"] == len(pdus)


def test_incoming_cmti_read_delete(session: Session) -> None:
    """+CMTI arrives, CMGR reads the PDU, CMGD deletes it; the text decodes."""
    session.sim.deliver(HANDSET, "PIZZA")
    urc = session.wait_urc("+CMTI")
    index = int(urc.line.rsplit(",", 1)[1])
    stored = session.modem.read_stored(index)
    assert stored is not None
    sms = decode_pdu(stored.pdu)
    assert isinstance(sms, SmsDeliver) and sms.text == "PIZZA"
    assert sms.sender.number == HANDSET
    session.modem.delete_stored(index)
    assert session.sim.stats["storage_used"] == 0


def test_sweep_lists_everything(session: Session) -> None:
    """CMGL=4 lists every stored message, including multipart parts in any order."""
    session.sim.deliver(HANDSET, "x" * 200, order=[2, 1])
    session.sim.deliver("+447700900999", "COFFEE")
    listed = session.modem.list_stored()
    texts = sorted(str(decode_pdu(m.pdu).text) for m in listed)  # type: ignore[union-attr]
    assert len(listed) == 3
    assert "COFFEE" in texts


def test_status_report_for_sent_message(session: Session) -> None:
    """A SUBMIT asking for a report gets a +CDSI (stored) or +CDS (direct) report back."""
    (pdu,) = encode_submit(HANDSET, "report me", status_report=True)
    mr = session.modem.send_pdu(pdu)
    while True:
        urc = session.urcs.get(timeout=5)
        if urc.name in ("+CDS", "+CDSI"):
            break
    if urc.name == "+CDS":
        assert urc.pdu is not None
        report = decode_pdu(urc.pdu)
        session.modem.ack()
    else:
        routing = session.modem.report_routing
        assert routing is not None and routing.memory is not None
        with session.modem.memory(routing.memory):  # "SR" on Huawei, the read memory elsewhere
            stored = session.modem.read_stored(int(urc.line.rsplit(",", 1)[1]))
        assert stored is not None
        report = decode_pdu(stored.pdu)
    assert isinstance(report, SmsStatusReport)
    assert report.reference == mr and report.state == "delivered"


def test_cms_error_on_send_raises_with_code(session: Session) -> None:
    """+CMS ERROR on send raises CmsError with the numeric code; the next send works."""
    session.sim.fault("cms_error", code=500, count=1)
    (pdu,) = encode_submit(HANDSET, "try")
    with pytest.raises(CmsError) as caught:
        session.modem.send_pdu(pdu)
    assert caught.value.code == 500
    session.modem.send_pdu(pdu)
    assert len(session.sim.sent()) == 1


def test_prompt_timeout_writes_esc_and_recovers(session: Session) -> None:
    """No prompt: ModemTimeout, ESC cancels the input state, the next command works."""
    session.sim.fault("prompt_timeout", count=1)
    (pdu,) = encode_submit(HANDSET, "late")
    with pytest.raises(ModemTimeout):
        session.modem.send_pdu(pdu)
    assert session.modem.probe()
    session.modem.send_pdu(pdu)
    assert [m["text"] for m in session.sim.sent()] == ["late"]


def test_reboot_is_seen_and_reinit_works(session: Session) -> None:
    """After a reboot the engine re-initialises and receives again."""
    session.sim.fault("reboot")
    assert session.sim.wait_booted(10)
    session.modem.initialise()
    session.sim.deliver(HANDSET, "AGAIN")
    assert session.wait_urc("+CMTI").line.startswith("+CMTI")


@pytest.mark.parametrize("profile", ["generic", "quectel"])
def test_direct_delivery_cmt_needs_ack(profile: str) -> None:
    """With CNMI mt=2 the PDU comes in +CMT and AT+CNMA acknowledges it."""
    s = Session(profile)
    try:
        s.modem.close()
        s.modem = Modem(replace(s.settings, cnmi="AT+CNMI=2,2,0,1,0"), on_urc=s.urcs.put)
        s.modem.open()
        s.modem.initialise()
        s.sim.deliver(HANDSET, "DIRECT")
        urc = s.wait_urc("+CMT")
        assert urc.pdu is not None
        sms = decode_pdu(urc.pdu)
        assert isinstance(sms, SmsDeliver) and sms.text == "DIRECT"
        s.modem.ack()
        assert s.sim.stats["acks"] == 1
    finally:
        s.close()


def test_garbage_does_not_kill_reader(session: Session) -> None:
    """Random and non-UTF-8 bytes from the modem: the reader lives and commands still work."""
    session.sim.fault("garbage", count=200)
    assert session.modem.probe()
    assert not session.modem.lost.is_set()
    (pdu,) = encode_submit(HANDSET, "still here")
    session.modem.send_pdu(pdu)
    assert session.sim.sent()[0]["text"] == "still here"


def test_unplug_sets_lost_and_calls_on_lost(session: Session) -> None:
    """Closing the pty (unplug) ends the reader, sets ``lost`` and calls ``on_lost`` once."""
    reasons: queue.Queue[str] = queue.Queue()
    session.modem.close()
    session.modem = Modem(session.settings, on_urc=session.urcs.put, on_lost=reasons.put)
    session.modem.open()
    session.modem.initialise()
    session.sim.fault("unplug")
    assert session.modem.lost.wait(5)
    assert reasons.get(timeout=5) == session.modem.lost_reason
    session.modem.close()
    assert reasons.empty()  # closing is not a loss


def test_storage_full_holds_messages_until_freed() -> None:
    """With storage full the network holds the message; freeing a slot delivers it."""
    s = Session("simcom", storage_size=1)
    try:
        s.sim.deliver(HANDSET, "ONE")
        s.wait_urc("+CMTI")
        s.sim.deliver(HANDSET, "TWO")
        assert s.sim.stats["pending"] == 1
        (first,) = s.modem.list_stored()
        s.modem.delete_stored(first.index)
        s.wait_urc("+CMTI")
        texts = [decode_pdu(m.pdu).text for m in s.modem.list_stored()]  # type: ignore[union-attr]
        assert texts == ["TWO"]
    finally:
        s.close()


def test_never_sends_delete_all(session: Session) -> None:
    """The engine never issues AT+CMGD=1,4 (delete everything)."""
    session.sim.deliver(HANDSET, "A")
    for message in session.modem.list_stored():
        session.modem.delete_stored(message.index)
    assert session.sim.forbidden == []
