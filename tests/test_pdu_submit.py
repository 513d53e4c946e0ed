"""PDU codec: SUBMIT and test-DELIVER encoding, and how malformed PDUs are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pdukit import HELLOHELLO_SUBMIT, HOW_ARE_YOU, SCTS, as_deliver, deliver_hex

from modem.errors import PduError
from modem.pdu import (
    Address,
    Concat,
    decode_pdu,
    decode_submit,
    encode_deliver,
    encode_submit,
)


def test_submit_flags_and_length() -> None:
    """Status report request sets bit 5; tpdu_length counts octets after the SMSC 00."""
    (pdu,) = encode_submit("+447700900123", "hi", status_report=True)
    assert pdu.hex.startswith("0021000C91447700091032")
    assert pdu.tpdu_length * 2 + 2 == len(pdu.hex)
    assert pdu.hex == pdu.hex.upper()
    assert decode_submit(pdu.hex).status_report_request


def test_submit_national_number_uses_unknown_ton() -> None:
    """A number without '+' goes out as TON unknown, ISDN plan (0x81)."""
    (pdu,) = encode_submit("07700900123", "hi")
    assert pdu.hex.startswith("0001000B81")
    assert decode_submit(pdu.hex).recipient == Address("07700900123", 0, 1)


@pytest.mark.parametrize(
    ("validity", "octet"),
    [
        (timedelta(0), 0),
        (timedelta(minutes=5), 0),
        (timedelta(minutes=6), 1),
        (timedelta(hours=12), 143),
        (timedelta(hours=13), 145),
        (timedelta(days=2), 168),
        (timedelta(days=30), 196),
        (timedelta(weeks=5), 197),
        (timedelta(weeks=63), 255),
        (timedelta(weeks=100), 255),
    ],
)
def test_submit_relative_validity(validity: timedelta, octet: int) -> None:
    """TP-VPF=10: the smallest relative period that is at least the one asked for."""
    (pdu,) = encode_submit("+1234", "x", validity=validity)
    assert pdu.hex[2:4] == "11"
    assert int(pdu.hex[18:20], 16) == octet


@pytest.mark.parametrize(
    "number",
    ["", "+", "12a", "+1234567890123456789012", "123\r\nAT+CMGD=1,4", "١٢٣", " 123", "++1"],
)
def test_submit_rejects_bad_numbers(number: str) -> None:
    """Only '+' and 1-20 ASCII digits pass: the AT-injection guard."""
    with pytest.raises(PduError, match="number"):
        encode_submit(number, "hi")


def test_submit_multipart_8bit_reference() -> None:
    """161 GSM-7 characters: two parts with UDH 0500 03 ref 02 01/02."""
    pdus = encode_submit("+447700900123", "a" * 161, concat_reference=0xAB)
    assert len(pdus) == 2
    parts = [decode_submit(p.hex) for p in pdus]
    assert [p.concat for p in parts] == [Concat(0xAB, 2, 1, 8), Concat(0xAB, 2, 2, 8)]
    assert [len(p.text or "") for p in parts] == [153, 8]
    assert "050003AB0201" in pdus[0].hex


def test_submit_multipart_16bit_reference() -> None:
    """16-bit references use IEI 0x08 and 152 septets per part."""
    pdus = encode_submit("+1", "b" * 305, concat_reference=0xBEEF, reference_bits=16)
    parts = [decode_submit(p.hex) for p in pdus]
    assert [len(p.text or "") for p in parts] == [152, 152, 1]
    assert parts[2].concat == Concat(0xBEEF, 3, 3, 16)
    assert "060804BEEF0301" in pdus[0].hex


@pytest.mark.parametrize(("ref", "bits"), [(256, 8), (-1, 8), (65536, 16), (1, 12)])
def test_submit_rejects_bad_reference(ref: int, bits: int) -> None:
    """References must fit their width and the width must be 8 or 16."""
    with pytest.raises(PduError):
        encode_submit("+1", "x" * 200, concat_reference=ref, reference_bits=bits)


def test_submit_too_many_parts() -> None:
    """More than 255 parts cannot be numbered."""
    with pytest.raises(PduError, match="255"):
        encode_submit("+1", "x" * (153 * 255 + 1))


# --- encode_deliver / encode_status_report ---------------------------------------------------


def test_deliver_encoding_choices() -> None:
    """encode_deliver honours an explicit encoding and an SMSC."""
    when = datetime(2021, 1, 1, tzinfo=UTC)
    msg = as_deliver(encode_deliver("+1", "abc", scts=when, encoding="ucs2", smsc="+4477"))
    assert (msg.encoding, msg.text, msg.smsc) == ("ucs2", "abc", "+4477")
    raw = as_deliver(encode_deliver("+1", "ab", scts=when, encoding="8bit"))
    assert (raw.text, raw.data) == (None, b"ab")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"scts": datetime(2021, 1, 1)},  # naive
        {"scts": datetime(1999, 1, 1, tzinfo=UTC)},
        {"scts": datetime(2021, 1, 1, tzinfo=timezone(timedelta(minutes=10)))},
        {"scts": datetime(2021, 1, 1, tzinfo=UTC), "encoding": "latin1"},
        {"scts": datetime(2021, 1, 1, tzinfo=UTC), "encoding": "gsm7"},  # text has emoji
    ],
)
def test_deliver_rejects_what_it_cannot_encode(kwargs: dict[str, object]) -> None:
    """Naive or out-of-range times, unknown encodings and impossible text are PduErrors."""
    with pytest.raises(PduError):
        encode_deliver("+1", "😀", **kwargs)  # type: ignore[arg-type]


def test_deliver_rejects_text_longer_than_one_part() -> None:
    """encode_deliver builds one part only."""
    when = datetime(2021, 1, 1, tzinfo=UTC)
    with pytest.raises(PduError, match="exceeds"):
        encode_deliver("+1", "x" * 154, scts=when, concat=Concat(1, 2, 1, 8))


# --- malformed input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hex_pdu", "reason"),
    [
        ("", "truncated"),
        ("0", "hex"),
        ("zz", "hex"),
        ("07911326", "truncated"),
        (HOW_ARE_YOU[:-2], "truncated"),
        (HOW_ARE_YOU[:40], "truncated"),
        (deliver_hex(0, "31", 5), "truncated"),  # UDL beyond the data
        (deliver_hex(0, "", 0, first=0x44), "UDHI"),  # UDHI but no user data
        (deliver_hex(4, "0A0003", 3, first=0x44), "UDH"),  # UDHL beyond the data
        (deliver_hex(4, "04000307", 4, first=0x44), "UDH"),  # IE overruns the UDH
        (deliver_hex(4, "0400020701", 5, first=0x44), "concatenation"),  # bad IE length
        (deliver_hex(0, "0500030102010000", 2, first=0x44), "UDH"),  # UDL < UDH
        (deliver_hex(0, "31", 1).replace(SCTS, "12F02121430000"), "decimal"),
        (deliver_hex(0, "31", 1).replace(SCTS, "12002121430000"), "date"),  # month 0
        (HELLOHELLO_SUBMIT, "SMS-SUBMIT"),
        ("0003", "reserved"),
    ],
)
def test_malformed_pdus_raise_pdu_error(hex_pdu: str, reason: str) -> None:
    """Each kind of damage is a PduError naming the problem."""
    with pytest.raises(PduError, match=reason):
        decode_pdu(hex_pdu)


def test_decode_submit_refuses_a_deliver() -> None:
    """decode_submit only takes SUBMITs."""
    with pytest.raises(PduError, match="not an SMS-SUBMIT"):
        decode_submit(HOW_ARE_YOU)


def test_non_string_input_is_a_pdu_error() -> None:
    """Bytes or None instead of hex text are PduErrors, not TypeErrors."""
    with pytest.raises(PduError):
        decode_pdu(b"0011")  # type: ignore[arg-type]
