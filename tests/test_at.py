"""The sans-IO AT parser: framing, classification, URCs in any position, finals, garbage."""

from __future__ import annotations

import pytest

from modem.at import (
    MAX_LINE,
    NEED_DATA,
    AtParser,
    Event,
    Final,
    Garbage,
    Info,
    Prompt,
    Urc,
    command_prefix,
)

OK = Final(True, "OK", None, "")


def events(parser: AtParser, data: bytes = b"") -> list[Event]:
    """Feed ``data`` and pull every complete event."""
    parser.feed(data)
    out: list[Event] = []
    while (event := parser.next_event()) is not NEED_DATA:
        assert not isinstance(event, type(NEED_DATA))
        out.append(event)
    return out


def run(command: str | None, data: bytes) -> list[Event]:
    """Events for ``data`` with ``command`` pending (or idle)."""
    parser = AtParser()
    if command is not None:
        parser.begin(command)
    return events(parser, data)


@pytest.mark.parametrize(
    ("command", "prefix"),
    [
        ("AT+CMGL=4", "+CMGL"),
        ("AT+CPIN?", "+CPIN"),
        ('AT+CPMS="SM","SM","SM"', "+CPMS"),
        ("AT+CSQ", "+CSQ"),
        ("AT^SYSINFO", "^SYSINFO"),
        ("ATI", None),
        ("AT", None),
    ],
)
def test_command_prefix(command: str, prefix: str | None) -> None:
    """The reply prefix is derived from the command text."""
    assert command_prefix(command) == prefix


def test_info_and_ok() -> None:
    """A +CSQ reply is Info then a Final OK that ends the command."""
    parser = AtParser()
    parser.begin("AT+CSQ")
    assert events(parser, b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n") == [Info("+CSQ: 20,99"), OK]
    assert parser.pending is None


@pytest.mark.parametrize("eol", [b"\r\n", b"\n", b"\r", b"\r\r\n", b"\n\r"])
def test_line_endings(eol: bytes) -> None:
    """CRLF, LF, lone CR and blank lines all frame lines the same way."""
    data = eol + b"+CSQ: 20,99" + eol + eol + b"OK" + eol
    assert run("AT+CSQ", data) == [Info("+CSQ: 20,99"), OK]


def test_echo_dropped() -> None:
    """With echo on, the repeated command line is not reported."""
    assert run("AT+CSQ", b"AT+CSQ\r\r\n+CSQ: 5,0\r\n\r\nOK\r\n") == [Info("+CSQ: 5,0"), OK]


def test_cmgl_pdu_lines_are_info() -> None:
    """+CMGL headers and the PDU line after each are Info; +CMTI in between is a Urc."""
    data = (
        b'\r\n+CMGL: 1,0,,24\r\n0791AB\r\n+CMTI: "SM",3\r\n+CMGL: 2,1,,24\r\n0791CD\r\n\r\nOK\r\n'
    )
    assert run("AT+CMGL=4", data) == [
        Info("+CMGL: 1,0,,24"),
        Info("0791AB"),
        Urc("+CMTI", '+CMTI: "SM",3'),
        Info("+CMGL: 2,1,,24"),
        Info("0791CD"),
        OK,
    ]


def test_plain_text_reply_is_info() -> None:
    """Bare lines answer AT+CGMI/ATI while the command is pending."""
    assert run("ATI", b"\r\nQuectel\r\nEC25\r\nRevision: X\r\n\r\nOK\r\n") == [
        Info("Quectel"),
        Info("EC25"),
        Info("Revision: X"),
        OK,
    ]


def test_cmt_folds_pdu() -> None:
    """+CMT: header and the following PDU line become one Urc with pdu set."""
    assert run(None, b"\r\n+CMT: ,24\r\n07914477\r\n") == [Urc("+CMT", "+CMT: ,24", "07914477")]


def test_cds_folds_pdu_mid_reply() -> None:
    """+CDS with its PDU inside a command reply does not disturb the reply."""
    data = b"\r\n+CSQ: 9,0\r\n+CDS: 25\r\n0006AB\r\nOK\r\n"
    assert run("AT+CSQ", data) == [Info("+CSQ: 9,0"), Urc("+CDS", "+CDS: 25", "0006AB"), OK]


def test_cmt_without_pdu_is_flushed() -> None:
    """A +CMT header not followed by hex is still reported, before the next line."""
    assert run(None, b"+CMT: ,24\r\nRING\r\n") == [
        Urc("+CMT", "+CMT: ,24"),
        Urc("RING", "RING"),
    ]


def test_held_cmt_waits_for_next_line() -> None:
    """The +CMT event is only complete once the PDU line has arrived."""
    parser = AtParser()
    assert events(parser, b"+CMT: ,24\r\n") == []
    assert events(parser, b"0791\r\n") == [Urc("+CMT", "+CMT: ,24", "0791")]


@pytest.mark.parametrize(
    ("line", "name"),
    [
        (b'+CMTI: "SM",3', "+CMTI"),
        (b'+CDSI: "SR",1', "+CDSI"),
        (b"RING", "RING"),
        (b"^RSSI: 14", "^RSSI"),
        (b"^BOOT: 1,0,0,0", "^BOOT"),
        (b"^MODE: 5,4", "^MODE"),
        (b"^SRVST: 2", "^SRVST"),
        (b"^SIMST: 1", "^SIMST"),
        (b"RDY", "RDY"),
        (b"Call Ready", "Call Ready"),
        (b"SMS Ready", "SMS Ready"),
        (b'+QIND: "SMS DONE"', "+QIND"),
        (b"+CIEV: 2,3", "+CIEV"),
        (b"NO CARRIER", "NO CARRIER"),
    ],
)
def test_urcs_mid_reply(line: bytes, name: str) -> None:
    """Known URCs are URCs between reply lines, and the reply stays intact."""
    data = b"\r\n+CSQ: 1,2\r\n" + line + b"\r\n\r\nOK\r\n"
    assert run("AT+CSQ", data) == [Info("+CSQ: 1,2"), Urc(name, line.decode()), OK]


def test_cpin_ready_urc_only_when_not_pending() -> None:
    """+CPIN: READY is a URC while idle but Info for AT+CPIN?."""
    assert run(None, b"+CPIN: READY\r\n") == [Urc("+CPIN", "+CPIN: READY")]
    assert run("AT+CPIN?", b"+CPIN: READY\r\nOK\r\n") == [Info("+CPIN: READY"), OK]


def test_creg_info_or_urc() -> None:
    """+CREG: answers AT+CREG? but is unsolicited during another command."""
    assert run("AT+CREG?", b"+CREG: 0,1\r\nOK\r\n") == [Info("+CREG: 0,1"), OK]
    assert run("AT+CSQ", b"+CREG: 1\r\nOK\r\n") == [Urc("+CREG", "+CREG: 1"), OK]


def test_unknown_idle_line_and_stale_ok() -> None:
    """Idle: unknown lines and a stale OK become Urc("?") so they can be drained."""
    assert run(None, b"HELLO\r\nOK\r\n") == [Urc("?", "HELLO"), Urc("?", "OK")]


def test_final_only_ends_once() -> None:
    """After the Final, a second OK is stale, not a second Final."""
    assert run("AT", b"OK\r\nOK\r\n") == [OK, Urc("?", "OK")]


def test_end_makes_late_reply_stale() -> None:
    """After end() (a timeout), the late reply is no longer Info/Final."""
    parser = AtParser()
    parser.begin("AT+CSQ")
    parser.end()
    assert events(parser, b"+CSQ: 1,1\r\nOK\r\n") == [Urc("?", "+CSQ: 1,1"), Urc("?", "OK")]


@pytest.mark.parametrize(
    ("line", "final"),
    [
        (b"ERROR", Final(False, "ERROR", None, "")),
        (b"+CMS ERROR: 500", Final(False, "CMS", 500, "500")),
        (b"+CME ERROR: 16", Final(False, "CME", 16, "16")),
        (b"+CME ERROR: SIM busy", Final(False, "CME", 14, "SIM busy")),
        (b"+CME ERROR: something odd", Final(False, "CME", None, "something odd")),
        (b"+CMS ERROR: unknown error", Final(False, "CMS", None, "unknown error")),
        (b"COMMAND NOT SUPPORT", Final(False, "ERROR", None, "COMMAND NOT SUPPORT")),
    ],
)
def test_error_finals(line: bytes, final: Final) -> None:
    """Error finals carry kind, numeric code (also mapped from verbose CME) and text."""
    assert run("AT+CMGF=0", line + b"\r\n") == [final]


def test_no_carrier_final_for_dial() -> None:
    """NO CARRIER is the final result of ATD."""
    assert run("ATD123;", b"NO CARRIER\r\n") == [Final(False, "NO CARRIER", None, "NO CARRIER")]


@pytest.mark.parametrize("prompt", [b"> ", b">", b"\r\n> ", b"\r\n>"])
def test_prompt_variants(prompt: bytes) -> None:
    """The prompt is recognised with or without its space and with no line end."""
    assert run("AT+CMGS=20", prompt) == [Prompt()]


def test_prompt_only_for_cmgs() -> None:
    """A '>' at line start is not a prompt unless AT+CMGS/AT+CMGW is pending."""
    assert run("AT+CSQ", b"> \r\nOK\r\n") == [Info(">"), OK]
    assert run(None, b"> ") == []


def test_cmgs_exchange_with_echo() -> None:
    """Echo on: command echo and the echoed PDU (with Ctrl-Z) are dropped; +CMGS is Info."""
    data = b"AT+CMGS=20\r\r\n> 0011000B91\x1a\r\n+CMGS: 7\r\n\r\nOK\r\n"
    assert run("AT+CMGS=20", data) == [Prompt(), Info("+CMGS: 7"), OK]


def test_cmti_between_prompt_and_final() -> None:
    """A +CMTI arriving while the modem sends is still a URC."""
    data = b'\r\n> \r\n+CMTI: "SM",4\r\n+CMGS: 8\r\n\r\nOK\r\n'
    assert run("AT+CMGS=20", data) == [
        Prompt(),
        Urc("+CMTI", '+CMTI: "SM",4'),
        Info("+CMGS: 8"),
        OK,
    ]


def test_non_utf8_and_controls_are_garbage() -> None:
    """UTF-8 text decodes; non-UTF-8 or control bytes make a line Garbage; parsing goes on."""
    data = b'+COPS: 0,0,"Caf\xc3\xa9"\r\n\xe9\xe8\xa4\r\nab\x01cd\r\nOK\r\n'
    assert run("AT+COPS?", data) == [
        Info('+COPS: 0,0,"Caf\u00e9"'),
        Garbage(b"\xe9\xe8\xa4", "not utf-8"),
        Garbage(b"ab\x01cd", "control characters"),
        OK,
    ]


def test_noise_bytes_are_stripped() -> None:
    """NUL/0xFF power-up noise around a line does not hide it."""
    assert run(None, b"\x00\xffRDY\r\n") == [Urc("RDY", "RDY")]


def test_over_long_line_is_garbage_and_resyncs() -> None:
    """A line over the cap without newline becomes Garbage; the next line parses again."""
    parser = AtParser()
    parser.begin("AT")
    assert events(parser, b"x" * (MAX_LINE + 10)) == [Garbage(b"x" * MAX_LINE, "line too long")]
    assert events(parser, b"y" * 50_000) == []
    assert events(parser, b"zzz\r\nOK\r\n") == [OK]


def test_over_long_terminated_line_is_garbage() -> None:
    """A terminated over-long line gives the same Garbage as an unterminated one."""
    assert run("AT", b"x" * (MAX_LINE + 1) + b"\r\nOK\r\n") == [
        Garbage(b"x" * MAX_LINE, "line too long"),
        OK,
    ]


def test_need_data_on_partial_line() -> None:
    """A partial line yields NEED_DATA until its end arrives."""
    parser = AtParser()
    parser.begin("AT")
    parser.feed(b"O")
    assert parser.next_event() is NEED_DATA
    parser.feed(b"K\r")
    assert parser.next_event() == OK


def test_two_prompts_in_a_row() -> None:
    """Each '>' at a line start is its own prompt, spaces between them or not."""
    assert run("AT+CMGW=20", b"> > >") == [Prompt(), Prompt(), Prompt()]
