"""Hypothesis properties of the PDU codec: round trips, splitting limits, robustness."""

from __future__ import annotations

import contextlib
import itertools
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from modem.errors import PduError
from modem.pdu import (
    SmsDeliver,
    SmsStatusReport,
    decode_pdu,
    decode_submit,
    encode_deliver,
    encode_status_report,
    encode_submit,
    gsm7,
    split_message,
)

GSM_CHARS = gsm7.BASIC.replace("\x1b", "") + "€[]{}~^\\|\f"
# A mix that exercises every cost: basic, escape pairs, BMP outside GSM-7, astral emoji.
MIXED = st.sampled_from(GSM_CHARS) | st.sampled_from("çЖ中\u200b") | st.sampled_from("😀🇬🇧𝄞")
gsm_text = st.text(alphabet=st.sampled_from(GSM_CHARS), max_size=400)
any_text = st.one_of(gsm_text, st.text(alphabet=MIXED, max_size=300), st.text(max_size=200))
numbers = st.from_regex(r"\+?[0-9]{1,20}", fullmatch=True)
quarters = st.integers(-79, 79)
times = st.builds(
    lambda dt, q: dt.replace(tzinfo=timezone(timedelta(minutes=15 * q))),
    st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31, 23, 59, 59)).map(
        lambda d: d.replace(microsecond=0)
    ),
    quarters,
)


def _limits(encoding: str, bits: int, parts: int) -> int:
    """The per-part limit the spec gives (septets or UTF-16 units)."""
    if parts == 1:
        return 160 if encoding == "gsm7" else 70
    if encoding == "gsm7":
        return 153 if bits == 8 else 152
    return 67 if bits == 8 else 66


def _cost(part: str, encoding: str) -> int:
    """Septets (GSM-7) or UTF-16 code units (UCS2) of one part."""
    if encoding == "gsm7":
        return gsm7.septet_length(part)
    return len(part.encode("utf-16-be")) // 2


@settings(max_examples=150, deadline=None)
@given(any_text, st.sampled_from([8, 16]))
def test_split_reassembles_within_limits(text: str, bits: int) -> None:
    """Parts join to the text, each within its limit, none splitting an escape or surrogate."""
    encoding, parts = split_message(text, reference_bits=bits)
    assert "".join(parts) == text
    assert encoding == ("gsm7" if gsm7.is_encodable(text) else "ucs2")
    limit = _limits(encoding, bits, len(parts))
    for part in parts:
        # Parts are str, so a surrogate pair is never cut; an escape pair could only be cut
        # by the cost accounting, which septet_length checks here.
        assert 0 < _cost(part, encoding) <= limit or parts == [""]
    if len(parts) > 1:
        # Greedy: each part (but the last) could not take the next character.
        for part, nxt in itertools.pairwise(parts):
            assert _cost(part + nxt[0], encoding) > limit


@settings(max_examples=100, deadline=None)
@given(any_text, numbers, st.sampled_from([8, 16]), st.integers(0, 255), st.booleans())
def test_submit_round_trip(text: str, number: str, bits: int, ref: int, srr: bool) -> None:
    """encode_submit then decode_submit gives the text back, part by part, in order."""
    pdus = encode_submit(number, text, concat_reference=ref, reference_bits=bits, status_report=srr)
    decoded = [decode_submit(p.hex) for p in pdus]
    assert "".join(d.text or "" for d in decoded) == text
    for seq, (pdu, sub) in enumerate(zip(pdus, decoded, strict=True), start=1):
        assert pdu.tpdu_length == len(pdu.hex) // 2 - 1
        assert sub.recipient.number.lstrip("+") == number.lstrip("+")
        assert sub.status_report_request == srr
        assert sub.reference == 0
        if len(pdus) > 1:
            assert sub.concat is not None
            assert (sub.concat.reference, sub.concat.sequence) == (ref, seq)
            assert (sub.concat.total, sub.concat.bits) == (len(pdus), bits)
        else:
            assert sub.concat is None


@settings(max_examples=100, deadline=None)
@given(
    st.one_of(numbers, st.text(alphabet=st.sampled_from(GSM_CHARS), min_size=1, max_size=5)),
    st.one_of(st.text(alphabet=MIXED, max_size=60), gsm_text.map(lambda t: t[:140])),
    times,
)
def test_deliver_round_trip(sender: str, text: str, scts: datetime) -> None:
    """encode_deliver then decode_pdu gives sender, text and time stamp back."""
    try:
        hex_pdu = encode_deliver(sender, text, scts=scts)
    except PduError:
        # Only a text over one part's capacity may be refused.
        assert len(split_message(text)[1]) > 1
        return
    msg = decode_pdu(hex_pdu)
    assert isinstance(msg, SmsDeliver)
    assert msg.text == text
    assert msg.scts == scts
    assert msg.scts.utcoffset() == scts.utcoffset()
    assert msg.sender.number.lstrip("+") == sender.lstrip("+")


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 255), numbers, times, times, st.integers(0, 255))
def test_status_report_round_trip(
    ref: int, number: str, scts: datetime, discharge: datetime, status: int
) -> None:
    """encode_status_report then decode_pdu gives every field back."""
    rep = decode_pdu(
        encode_status_report(ref, number, scts=scts, discharge=discharge, status=status)
    )
    assert isinstance(rep, SmsStatusReport)
    assert (rep.reference, rep.status, rep.scts, rep.discharge) == (ref, status, scts, discharge)
    assert rep.recipient.number.lstrip("+") == number.lstrip("+")


def _decode_or_pdu_error(hex_pdu: str) -> None:
    """decode_pdu and decode_submit either return or raise PduError; nothing else escapes."""
    for decode in (decode_pdu, decode_submit):
        with contextlib.suppress(PduError):
            decode(hex_pdu)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_never_crash(raw: bytes) -> None:
    """Arbitrary octets decode or raise PduError."""
    _decode_or_pdu_error(raw.hex())


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_damaged_valid_pdus_never_crash(data: st.DataObject) -> None:
    """Valid PDUs truncated or with octets overwritten decode or raise PduError."""
    when = datetime(2021, 1, 1, tzinfo=UTC)
    seeds = [
        encode_deliver("+447700900123", "héllo €", scts=when),
        encode_deliver("VODAFONE", "😀 hi", scts=when),
        encode_submit("+1", "x" * 200, reference_bits=16)[0].hex,
        encode_status_report(1, "+1", scts=when, discharge=when, status=0),
    ]
    raw = bytearray.fromhex(data.draw(st.sampled_from(seeds)))
    for _ in range(data.draw(st.integers(0, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    _decode_or_pdu_error(bytes(raw[:cut]).hex())
