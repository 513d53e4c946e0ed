"""Status-report routing, the SR memory, SIM identity and USSD: the driver against the simulator."""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest

from modem.at import Urc
from modem.errors import AtError, UssdError
from modem.modem import Modem
from modem.pdu import SmsStatusReport, decode_pdu, encode_submit
from modem.reports import decide_routing
from modem.settings import ModemSettings
from modem.sim import SimModem
from modem.sim.commands import ICCID
from modem.status import Commander
from modem.ussd import ask, decode_answer, encode_request, parse_amount, run_ussd

PROFILES = ["generic", "huawei", "simcom", "quectel", "telit"]


def _open(sim: SimModem, urcs: queue.Queue[Urc] | None = None) -> Modem:
    modem = Modem(
        ModemSettings(url=sim.device_path, command_timeout=3.0, send_timeout=5.0),
        on_urc=urcs.put if urcs is not None else None,
    )
    modem.open()
    modem.initialise()
    return modem


@pytest.fixture(params=PROFILES)
def sim(request: pytest.FixtureRequest) -> Iterator[SimModem]:
    """A quiet simulated modem of each dialect."""
    with SimModem(request.param, noise=False, urc_mid_reply=0.0) as modem:
        yield modem


def _next(urcs: queue.Queue[Urc], names: set[str], deadline: float = 5.0) -> Urc:
    end = time.monotonic() + deadline
    while True:
        urc = urcs.get(timeout=max(0.01, end - time.monotonic()))
        if urc.name in names:
            return urc


def test_routing_chosen_per_dialect(sim: SimModem) -> None:
    """Huawei and Telit store reports (SR, SM); the others route +CDS to the terminal."""
    modem = _open(sim)
    try:
        routing = modem.report_routing
        assert routing is not None
        expected = {"huawei": ("stored", "SR"), "telit": ("stored", "SM")}
        assert (routing.mode, routing.memory) == expected.get(sim.profile_name, ("direct", None))
        assert routing.cnmi.split(",")[3] == ("2" if routing.mode == "stored" else "1")
    finally:
        modem.close()


def test_every_report_taken_and_memory_empty(sim: SimModem) -> None:
    """A report requested for each send reaches the driver, and no memory keeps any."""
    urcs: queue.Queue[Urc] = queue.Queue()
    modem = _open(sim, urcs)
    try:
        routing = modem.report_routing
        assert routing is not None
        mrs = {modem.send_pdu(encode_submit("+447700900123", f"hi {n}", status_report=True)[0])
               for n in range(3)}  # fmt: skip
        seen: set[int] = set()
        while seen != mrs:
            urc = _next(urcs, {"+CDS", "+CDSI"})
            if urc.name == "+CDS":
                assert urc.pdu is not None
                report = decode_pdu(urc.pdu)
                modem.ack()
            else:
                index = int(urc.line.rsplit(",", 1)[1])
                with modem.memory(routing.memory or "SM"):
                    stored = modem.read_stored(index)
                    assert stored is not None
                    modem.delete_stored(index)
                report = decode_pdu(stored.pdu)
            assert isinstance(report, SmsStatusReport) and report.state == "delivered"
            seen.add(report.reference)
        assert sim.stats["report_memory_used"] == 0 and sim.stats["storage_used"] == 0
        assert modem.counters["empty_reads"] == 0
    finally:
        modem.close()


def test_cmgr_on_the_wrong_memory_is_counted() -> None:
    """A +CDSI "SR" read from SM answers a bare OK: counted, not mistaken for a message."""
    with SimModem("huawei", noise=False, urc_mid_reply=0.0) as sim:
        urcs: queue.Queue[Urc] = queue.Queue()
        modem = _open(sim, urcs)
        try:
            modem.send_pdu(encode_submit("+447700900123", "hi", status_report=True)[0])
            index = int(_next(urcs, {"+CDSI"}).line.rsplit(",", 1)[1])
            assert modem.read_stored(index) is None
            assert modem.counters["empty_reads"] == 1
            assert sim.stats["report_memory_used"] == 1
        finally:
            modem.close()


def test_full_report_memory_loses_reports_until_emptied() -> None:
    """With SR full the modem drops reports; listing and deleting SR makes room again."""
    with SimModem("huawei", noise=False, urc_mid_reply=0.0) as sim:
        sim.fault("fill_reports")
        urcs: queue.Queue[Urc] = queue.Queue()
        modem = _open(sim, urcs)
        try:
            modem.send_pdu(encode_submit("+447700900123", "lost", status_report=True)[0])
            deadline = time.monotonic() + 5
            while sim.stats.get("reports_lost", 0) == 0 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert sim.stats["reports_lost"] == 1
            with modem.memory("SR"):
                stored = modem.list_stored()
                for message in stored:
                    modem.delete_stored(message.index)
            assert len(stored) == 20 and sim.stats["report_memory_used"] == 0
            mr = modem.send_pdu(encode_submit("+447700900123", "kept", status_report=True)[0])
            assert _next(urcs, {"+CDSI"}).line.endswith(",0")
            with modem.memory("SR"):
                found = modem.list_stored()
            report = decode_pdu(found[0].pdu)
            assert isinstance(report, SmsStatusReport) and report.reference == mr
            assert modem.list_stored() == []  # SM again after the block
        finally:
            modem.close()


def test_status_shows_sim_identity(sim: SimModem) -> None:
    """ICCID (each vendor's command), IMSI, own number and the report routing."""
    modem = _open(sim)
    try:
        status = modem.status()
        assert status.iccid == ICCID
        assert status.imsi is not None and status.imsi.isdigit()
        assert status.own_number == "+447700900000"
        assert status.report_routing is not None and status.report_routing.startswith(
            ("stored in", "direct")
        )
    finally:
        modem.close()


@pytest.mark.parametrize("profile", ["huawei", "simcom", "quectel"])
def test_balance_by_ussd(profile: str) -> None:
    """*100# answered in the dialect's encoding comes back as text, amount and currency."""
    with SimModem(profile, noise=False, urc_mid_reply=0.0) as sim:
        modem = _open(sim)
        try:
            answer = ask(modem, "*100#")
            assert sim.ussd.requests == ["*100#"]
            assert answer.text.startswith("Your balance is GBP 12.34")
            assert (answer.amount, answer.currency) == (Decimal("12.34"), "GBP")
            modem.command('AT+CSCS="UCS2"')
            sim.fault("ussd", text="Saldo: 7,50 €")
            answer = ask(modem, "*100#")
            assert (answer.amount, answer.currency) == (Decimal("7.50"), "EUR")
        finally:
            modem.close()


@pytest.mark.parametrize(
    ("mode", "message"), [(4, "not supported"), (2, "ended"), (None, "no answer")]
)
def test_ussd_failures_are_errors(mode: int | None, message: str) -> None:
    """+CUSD: 4 / +CUSD: 2 / silence raise UssdError saying which."""
    with SimModem("simcom", noise=False, urc_mid_reply=0.0) as sim:
        sim.fault("ussd", mode=mode)
        modem = _open(sim)
        try:
            with pytest.raises(UssdError, match=message):
                ask(modem, "*100#", timeout=0.5)
        finally:
            modem.close()


def test_ussd_codec_and_amounts() -> None:
    """Packed GSM-7 hex round-trips; amounts are found next to symbols and codes."""
    assert encode_request("*100#", "gsm7hex") == "AA180C3602"
    assert decode_answer("AA180C3602", 15, "gsm7hex") == "*100#"
    assert decode_answer("0041", 72, "text") == "A"
    assert parse_amount("Balance: 5.20 GBP, valid 30 days") == (Decimal("5.20"), "GBP")
    assert parse_amount("Credit £3.07") == (Decimal("3.07"), "GBP")
    assert parse_amount("You have 12 units") == (Decimal("12"), None)
    assert parse_amount("no figures") == (None, None)
    with pytest.raises(ValueError):
        encode_request('*100#";ATD123', "text")


def _scripted(answers: dict[str, list[str] | None]) -> Commander:
    """A command function answering from a table; None means the modem says ERROR."""

    def command(cmd: str, timeout: float | None = None) -> list[str]:
        reply = answers.get(cmd, [])
        if reply is None:
            raise AtError(cmd, "ERROR")
        return reply

    return command


def test_routing_decided_from_what_the_modem_offers() -> None:
    """ds 1 offered: direct, CNMA per CSMS; only ds 2: stored (SR if listed); nothing: as set."""
    cnmi = "AT+CNMI=2,1,0,2,0"
    offers_cds = {"AT+CNMI=?": ["+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)"]}
    direct = decide_routing(_scripted({**offers_cds, "AT+CSMS?": ["+CSMS: 0,1,1,1"]}), cnmi, "SM")
    assert (direct.mode, direct.cnmi, direct.ack) == ("direct", "AT+CNMI=2,1,0,1,0", False)
    assert decide_routing(_scripted({**offers_cds, "AT+CSMS?": None}), cnmi, "SM").ack
    stores = {"AT+CNMI=?": ["+CNMI: (0,1,2),(0-3),(0,2),(0,2),(0,1)"]}
    sr = {**stores, "AT+CPMS=?": ['+CPMS: ("SM","ME","SR"),("SM","ME"),("SM","ME")']}
    assert decide_routing(_scripted(sr), cnmi, "SM").memory == "SR"
    assert decide_routing(_scripted(stores), cnmi, "ME").memory == "ME"
    silent = decide_routing(_scripted({"AT+CNMI=?": None}), cnmi, "SM")
    assert (silent.mode, silent.cnmi, silent.memory) == ("stored", cnmi, "SM")
    off = decide_routing(_scripted({}), cnmi, "SM", wanted=False)
    assert (off.mode, off.cnmi) == ("off", "AT+CNMI=2,1,0,0,0")


def test_cusd_inside_the_reply_is_taken_without_waiting() -> None:
    """Some firmware puts +CUSD before the OK: it is the answer, no URC is awaited."""
    command = _scripted({'AT+CUSD=1,"AA180C3602",15': ['+CUSD: 0,"4379999CA6836AA0A3100A",15']})

    def no_urc(wait: float) -> str | None:
        raise AssertionError("waited for a URC although the answer came with the reply")

    answer = run_ussd(command, no_urc, "*100#", style="gsm7hex")
    assert (answer.text, answer.amount, answer.currency) == ("Credit 5 GBP", Decimal("5"), "GBP")
