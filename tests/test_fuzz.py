"""Hostile input: random and mutated PDUs through ingest into a real store; random AT lines.

Bounded in CI by the Hypothesis "ci" profile; `make soak` runs the slow variants with the
"long" profile (thousands of examples each).
"""

from __future__ import annotations

import sqlite3
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modem.at import NEED_DATA, AtParser, Final, Garbage, Info, Prompt, Urc
from modem.pdu import Concat, encode_deliver, encode_status_report
from smsd.ingest import Ingest
from smsd.pipeline import Pipeline
from smsd.settings import Rules
from store.store import Store

SCTS = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SEEDS = [
    encode_deliver("+447700900123", "PIZZA", scts=SCTS),
    encode_deliver("VODAFONE", "Your bill is ready", scts=SCTS),
    encode_deliver("+447700900123", "Grazie 🍕", scts=SCTS),
    encode_deliver("07700900123", "x" * 150, scts=SCTS, concat=Concat(7, 2, 1, 8)),
    encode_deliver("+447700900123", "€ [16-bit] {ref}", scts=SCTS, concat=Concat(700, 3, 2, 16)),
    encode_status_report(5, "+447700900123", scts=SCTS, discharge=SCTS, status=0),
]


@st.composite
def mutated_pdus(draw: st.DrawFn) -> str:
    """A real PDU with bytes flipped, cut, inserted, or plain random hex/garbage."""
    kind = draw(st.sampled_from(["flip", "cut", "insert", "random", "text"]))
    if kind == "random":
        return bytes(draw(st.binary(max_size=200))).hex().upper()
    if kind == "text":
        return draw(st.text(max_size=80))
    raw = bytearray(bytes.fromhex(draw(st.sampled_from(SEEDS))))
    if kind == "flip":
        for _ in range(draw(st.integers(1, 4))):
            i = draw(st.integers(0, len(raw) - 1))
            raw[i] ^= draw(st.integers(1, 255))
    elif kind == "cut":
        raw = raw[: draw(st.integers(0, len(raw) - 1))]
    else:
        i = draw(st.integers(0, len(raw)))
        raw[i:i] = draw(st.binary(min_size=1, max_size=8))
    return bytes(raw).hex().upper()


def _check_ingest(pdus: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "fuzz.db"
        store = Store.open(db)
        ingest = Ingest(store, Pipeline(store, Rules()))
        half = len(pdus) // 2
        for index, pdu in enumerate(pdus[:half]):
            ingest.record_many("modem0", [(index, pdu)])  # one +CMTI: between CMGR and CMGD
        ingest.record_many("modem0", list(enumerate(pdus[half:], start=half)))  # a sweep
        store.close()
        with sqlite3.connect(db) as conn:
            rows = conn.execute("SELECT state, error, raw_pdu FROM incoming").fetchall()
    for state, error, raw in rows:
        assert state in ("new", "partial", "malformed"), state
        assert raw in pdus  # every stored message keeps its raw PDU as it came
        if state == "malformed":
            assert error  # rejected with a reason


def _check_parser(chunks: list[bytes]) -> None:
    parser = AtParser()
    parser.begin("AT+CMGL=4")
    for chunk in chunks:
        parser.feed(chunk)
        for _ in range(10_000):  # a bound: the parser must drain, never spin
            event = parser.next_event()
            if event is NEED_DATA:
                break
            assert isinstance(event, Info | Final | Urc | Prompt | Garbage)
            if isinstance(event, Final):
                parser.begin("AT+CMGS=20")
        else:
            pytest.fail("parser produced events without end")


AT_PIECES = st.sampled_from(
    [
        b"\r\n",
        b"OK",
        b"ERROR",
        b"+CMS ERROR: 500",
        b"+CME ERROR: SIM busy",
        b"> ",
        b'+CMTI: "SM",3',
        b"+CMT: ,23",
        b"+CMGL: 1,0,,23",
        b"^RSSI:17",
        b"RDY",
        b"\x1a",
        b"\x1b",
        b"\xff\xfe\x80",
        b"0791447758100650040C914477",
        b"+CDS: 25",
        b"AT+CMGL=4\r",
    ]
)


@given(st.lists(mutated_pdus(), min_size=1, max_size=6))
@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None, max_examples=60)
def test_mutated_pdus_are_stored_or_rejected_with_reason(pdus: list[str]) -> None:
    """No crash, no hang: each hostile PDU is stored (raw kept) or stored as malformed."""
    _check_ingest(pdus)


@given(st.lists(st.one_of(AT_PIECES, st.binary(max_size=64)), max_size=40))
def test_random_at_streams_never_break_the_parser(chunks: list[bytes]) -> None:
    """Random and hostile byte streams only ever give the five event types, and drain."""
    _check_parser(chunks)


@pytest.mark.slow
@given(st.lists(mutated_pdus(), min_size=1, max_size=10))
@settings(max_examples=5_000, deadline=None, suppress_health_check=list(HealthCheck))
def test_mutated_pdus_long(pdus: list[str]) -> None:
    """The long fuzz run of the ingest path (make soak)."""
    _check_ingest(pdus)


@pytest.mark.slow
@given(st.lists(st.one_of(AT_PIECES, st.binary(max_size=256)), max_size=200))
@settings(max_examples=20_000, deadline=None, suppress_health_check=list(HealthCheck))
def test_random_at_streams_long(chunks: list[bytes]) -> None:
    """The long fuzz run of the AT parser (make soak)."""
    _check_parser(chunks)
