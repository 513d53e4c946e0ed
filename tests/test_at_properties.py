"""Properties of the AT parser: chopping-invariance and robustness on arbitrary bytes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from modem.at import NEED_DATA, AtParser, Event, Final, Garbage, Info, Prompt, Urc

COMMANDS = ["AT+CMGL=4", "AT+CMGS=23", "AT+CSQ", "AT+CPIN?", "ATI", "ATD123;", None]
TOKENS = [
    b"\r\n", b"\r", b"\n", b"OK", b"ERROR", b"+CMS ERROR: 500", b"+CME ERROR: SIM busy",
    b"+CMGL: 1,0,,20", b"+CMGS: 4", b"+CSQ: 20,99", b"+CPIN: READY", b"0791447700", b"AT+CSQ",
    b'+CMTI: "SM",3', b"+CMT: ,20", b"+CDS: 25", b"RING", b"^RSSI: 9", b"SMS Ready", b"> ", b">",
    b" ", b"\x1a", b"\x1b", b"\x00", b"\xff\xfe", b"\x80\x81", b"NO CARRIER", b"x" * 70,
]  # fmt: skip

streams = st.lists(st.sampled_from(TOKENS), max_size=40).map(b"".join)


def collect(command: str | None, chunks: list[bytes], max_line: int) -> list[Event]:
    """All events from feeding ``chunks`` one by one, pulling after each feed."""
    parser = AtParser(max_line=max_line)
    if command is not None:
        parser.begin(command)
    out: list[Event] = []
    for chunk in chunks:
        parser.feed(chunk)
        while (event := parser.next_event()) is not NEED_DATA:
            assert isinstance(event, Info | Final | Urc | Prompt | Garbage)
            out.append(event)
    return out


def chop(data: bytes, cuts: list[int]) -> list[bytes]:
    """Split ``data`` at the given offsets (clipped, sorted, deduplicated)."""
    points = sorted({min(max(cut, 0), len(data)) for cut in cuts})
    pieces, start = [], 0
    for point in [*points, len(data)]:
        pieces.append(data[start:point])
        start = point
    return pieces


@settings(max_examples=300, deadline=None)
@given(
    command=st.sampled_from(COMMANDS),
    data=streams,
    cuts=st.lists(st.integers(0, 3000), max_size=30),
    max_line=st.sampled_from([64, 4096]),
)
def test_chopping_gives_same_events(
    command: str | None, data: bytes, cuts: list[int], max_line: int
) -> None:
    """The same protocol byte stream cut at any points gives the same events."""
    whole = collect(command, [data], max_line)
    assert collect(command, chop(data, cuts), max_line) == whole
    assert collect(command, [bytes([b]) for b in data], max_line) == whole


@settings(max_examples=200, deadline=None)
@given(
    command=st.sampled_from(COMMANDS),
    data=st.binary(max_size=600),
    cuts=st.lists(st.integers(0, 600), max_size=20),
)
def test_arbitrary_bytes_never_raise_and_chop_invariant(
    command: str | None, data: bytes, cuts: list[int]
) -> None:
    """Random bytes never raise and are chopping-invariant too (small cap to hit resync)."""
    whole = collect(command, [data], 32)
    assert collect(command, chop(data, cuts), 32) == whole


@settings(max_examples=100, deadline=None)
@given(prefix=streams, suffix_lines=st.lists(st.sampled_from(["RING", "+CSQ: 1,1"]), max_size=5))
def test_parser_recovers_after_noise(prefix: bytes, suffix_lines: list[str]) -> None:
    """Whatever came before, after a line end a pending command's reply parses cleanly."""
    parser = AtParser(max_line=64)
    collect_into: list[Event] = []
    parser.feed(prefix + b"\r\n")
    while (event := parser.next_event()) is not NEED_DATA:
        collect_into.append(event)  # type: ignore[arg-type]
    parser.begin("AT+CSQ")
    tail = "".join(line + "\r\n" for line in suffix_lines).encode() + b"OK\r\n"
    parser.feed(tail)
    got = []
    while (event := parser.next_event()) is not NEED_DATA:
        got.append(event)
    assert got[-1] == Final(True, "OK", None, "")
    assert [e for e in got if isinstance(e, Info)] == [
        Info(line) for line in suffix_lines if line.startswith("+CSQ")
    ]
