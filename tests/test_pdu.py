"""PDU codec: worked examples from TS 23.040 and well-known public PDUs, fields, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pdukit import HELLOHELLO_SUBMIT, HOW_ARE_YOU, OA, SCTS, as_deliver, deliver_hex

from modem.pdu import (
    Address,
    Concat,
    SmsStatusReport,
    decode_pdu,
    decode_submit,
    encode_deliver,
    encode_status_report,
    encode_submit,
)

# --- worked examples -----------------------------------------------------------------------


def test_decode_how_are_you() -> None:
    """The classic public DELIVER decodes field by field."""
    msg = as_deliver(HOW_ARE_YOU)
    assert msg.smsc == "+31624000000"
    assert msg.sender == Address("+31641600986", 1, 1)
    assert msg.sender.kind == "international"
    assert (msg.pid, msg.dcs, msg.encoding, msg.message_class) == (0, 0, "gsm7", None)
    # TZ octet 0x08 is "minus 0 quarter hours" by the spec: UTC.
    assert msg.scts == datetime(2002, 8, 26, 19, 37, 41, tzinfo=UTC)
    assert msg.text == "How are you?"
    assert msg.data == b"How are you?"
    assert (msg.udh, msg.concat, msg.status_report_indication) == (b"", None, False)


def test_decode_hellohello_submit() -> None:
    """The classic public SUBMIT: relative validity AA is 4 days."""
    sub = decode_submit(HELLOHELLO_SUBMIT)
    assert sub.recipient == Address("+46708251358", 1, 1)
    assert (sub.reference, sub.dcs, sub.encoding) == (0, 0, "gsm7")
    assert sub.text == "hellohello"
    assert sub.validity == timedelta(days=4)
    assert not sub.status_report_request
    assert sub.concat is None


def test_encode_hellohello_submit_is_byte_exact() -> None:
    """encode_submit reproduces the public SUBMIT octet for octet."""
    (pdu,) = encode_submit("+46708251358", "hellohello", validity=timedelta(days=4))
    assert pdu.hex == HELLOHELLO_SUBMIT
    assert pdu.tpdu_length == len(HELLOHELLO_SUBMIT) // 2 - 1


def test_smsc_length_zero_and_lowercase_whitespace() -> None:
    """SMSC length 0 gives smsc None; lower-case hex with a trailing CRLF is accepted."""
    msg = as_deliver(deliver_hex(0, "C8F71D14969741F977FD07", 12).lower() + "\r\n")
    assert msg.smsc is None
    assert msg.text == "How are you?"


def test_alphanumeric_sender() -> None:
    """TON 5: 'VODAFONE' is GSM-7 packed, length 14 semi-octets (packing worked by hand)."""
    msg = as_deliver(deliver_hex(0, "C8F71D14969741F977FD07", 12, oa="0ED0D62731687C3A8B"))
    assert msg.sender == Address("VODAFONE", 5, 0)
    assert msg.sender.kind == "alphanumeric"


def test_alphanumeric_sender_seven_chars_has_no_trailing_at() -> None:
    """A 7-character alnum sender (13 semi-octets) does not grow a trailing '@'."""
    pdu = encode_deliver("ABCDEFG", "x", scts=datetime(2021, 1, 1, tzinfo=UTC))
    assert pdu[4:6] == "0D"
    assert as_deliver(pdu).sender.number == "ABCDEFG"


def test_national_and_odd_length_numbers() -> None:
    """National TON 2 with an odd digit count uses the F filler and keeps no '+'."""
    msg = as_deliver(deliver_hex(0, "31", 1, oa="05A11032F4"))
    assert msg.sender == Address("01234", 2, 1)
    assert msg.sender.kind == "national"
    assert msg.text == "1"
    assert Address("80800", 0, 1).kind == "other"


def test_scts_negative_time_zone() -> None:
    """TZ octet 0x4A: sign bit set, 24 quarter hours: UTC-06:00."""
    msg = as_deliver(deliver_hex(0, "31", 1).replace(SCTS, "1240212143004A"))
    assert msg.scts.utcoffset() == timedelta(hours=-6)
    assert msg.scts == datetime(2021, 4, 12, 12, 34, tzinfo=timezone(timedelta(hours=-6)))


def test_scts_positive_quarter_hour_zone() -> None:
    """TZ 0x32 is +23 quarter hours (+05:45, Nepal)."""
    msg = as_deliver(deliver_hex(0, "31", 1).replace(SCTS, "12402121430032"))
    assert msg.scts.utcoffset() == timedelta(hours=5, minutes=45)


def test_gsm7_extension_characters_in_deliver() -> None:
    """'€[]' arrives as escape pairs; data keeps the septets, text the characters."""
    pdu = encode_deliver("+447700900123", "a€[]", scts=datetime(2021, 1, 1, tzinfo=UTC))
    msg = as_deliver(pdu)
    assert msg.text == "a€[]"
    assert msg.data == b"a\x1b\x65\x1b\x3c\x1b\x3e"
    assert pdu.endswith("07E14D79C3DBF800")


def test_ucs2_deliver_with_emoji() -> None:
    """DCS 0x08: UTF-16BE with a surrogate pair decodes to one astral character."""
    ud = "Hi 😀".encode("utf-16-be")
    msg = as_deliver(deliver_hex(0x08, ud.hex(), len(ud)))
    assert msg.encoding == "ucs2"
    assert msg.text == "Hi 😀"
    assert msg.data == ud


def test_ucs2_lone_surrogate_becomes_replacement() -> None:
    """A part ending in half a surrogate pair decodes with U+FFFD; data keeps the octets."""
    msg = as_deliver(deliver_hex(0x08, "0041D83D", 4))
    assert msg.text == "A\ufffd"
    assert msg.data == bytes.fromhex("0041D83D")


def test_8bit_data_has_no_text() -> None:
    """DCS 0x04: 8-bit data, text None, the octets in data."""
    msg = as_deliver(deliver_hex(0x04, "DEADBEEF", 4))
    assert (msg.encoding, msg.text, msg.data) == ("8bit", None, b"\xde\xad\xbe\xef")


# --- data coding schemes -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dcs", "encoding", "message_class"),
    [
        (0x00, "gsm7", None),
        (0x10, "gsm7", 0),  # class 0 (flash)
        (0x11, "gsm7", 1),
        (0x18, "ucs2", 0),
        (0x16, "8bit", 2),
        (0x08, "ucs2", None),
        (0x0C, "8bit", None),  # alphabet 11 is reserved: kept raw
        (0x40, "gsm7", None),  # 01xx: marked for automatic deletion
        (0x48, "ucs2", None),
        (0x53, "gsm7", 3),
        (0xC0, "gsm7", None),  # message waiting, discard
        (0xD8, "gsm7", None),  # message waiting, store, GSM-7
        (0xE0, "ucs2", None),  # message waiting, store, UCS2
        (0xF0, "gsm7", 0),
        (0xF1, "gsm7", 1),
        (0xF6, "8bit", 2),
        (0x80, "8bit", None),  # reserved groups: raw
        (0xB5, "8bit", None),
    ],
)
def test_dcs_groups(dcs: int, encoding: str, message_class: int | None) -> None:
    """Each DCS group gives the right alphabet and message class."""
    ud = {"gsm7": ("31", 1), "ucs2": ("0031", 2), "8bit": ("31", 1)}[encoding]
    msg = as_deliver(deliver_hex(dcs, ud[0], ud[1]))
    assert (msg.dcs, msg.encoding, msg.message_class) == (dcs, encoding, message_class)
    assert msg.text == (None if encoding == "8bit" else "1")


@pytest.mark.parametrize("dcs", [0x20, 0x24, 0x28, 0x60, 0x72])
def test_compressed_text_is_stored_raw(dcs: int) -> None:
    """Compressed text (bit 5) is not decoded: 8-bit, text None, octets kept."""
    msg = as_deliver(deliver_hex(dcs, "0102", 2))
    assert (msg.encoding, msg.text, msg.data) == ("8bit", None, b"\x01\x02")


# --- concatenation -------------------------------------------------------------------------


def test_concat_8bit_reference_one_fill_bit() -> None:
    """UDH 050003 with one fill bit: text starts at septet 7."""
    ud = bytes.fromhex("0500032A0301") + bytes((0x41 << 1,))
    msg = as_deliver(deliver_hex(0, ud.hex(), 8, first=0x44))
    assert msg.concat == Concat(0x2A, 3, 1, 8)
    assert msg.udh == bytes.fromhex("0500032A0301")
    assert msg.text == "A"


def test_concat_16bit_reference_no_fill_bits() -> None:
    """UDH 060804 (7 octets) needs no fill bits: text starts at octet 7."""
    ud = bytes.fromhex("060804BEEF0202") + b"\x41"
    msg = as_deliver(deliver_hex(0, ud.hex(), 9, first=0x44))
    assert msg.concat == Concat(0xBEEF, 2, 2, 16)
    assert msg.text == "A"


def test_concat_ucs2() -> None:
    """UCS2 parts carry the UDH in octets, no fill."""
    ud = bytes.fromhex("050003070201") + "é".encode("utf-16-be")
    msg = as_deliver(deliver_hex(0x08, ud.hex(), len(ud), first=0x44))
    assert msg.concat == Concat(7, 2, 1, 8)
    assert msg.text == "é"


@pytest.mark.parametrize("ie", ["0003070000", "0003070203", "0003070300"])
def test_invalid_concat_values_are_ignored(ie: str) -> None:
    """total 0, sequence 0 or sequence > total: the IE is ignored (TS 23.040 9.2.3.24.1)."""
    ud = bytes.fromhex("05" + ie) + b"\x82"
    msg = as_deliver(deliver_hex(0, ud.hex(), 8, first=0x44))
    assert msg.concat is None
    assert msg.text == "A"


def test_other_ies_are_skipped() -> None:
    """A UDH with another IE before the concat IE still yields the concat."""
    udh = bytes.fromhex("0A" + "240101" + "0003050201" + "7000")
    body = udh + "hi".encode("utf-16-be")
    msg = as_deliver(deliver_hex(0x08, body.hex(), len(body), first=0x44))
    assert msg.concat == Concat(5, 2, 1, 8)
    assert msg.text == "hi"


# --- status reports ------------------------------------------------------------------------


def test_status_report_worked_example() -> None:
    """A hand-assembled STATUS-REPORT: MR 0x2A, delivered, two time stamps."""
    hex_pdu = "0791447700090000" + "062A" + OA + SCTS + "1240212143104A" + "00"
    rep = decode_pdu(hex_pdu)
    assert isinstance(rep, SmsStatusReport)
    assert rep.smsc == "+447700900000"
    assert rep.reference == 0x2A
    assert rep.recipient == Address("+447700900123", 1, 1)
    assert rep.scts == datetime(2021, 4, 12, 12, 34, tzinfo=UTC)
    assert rep.discharge == datetime(2021, 4, 12, 12, 34, 1, tzinfo=timezone(timedelta(hours=-6)))
    assert (rep.status, rep.state) == (0, "delivered")


@pytest.mark.parametrize(
    ("status", "state"),
    [
        (0x00, "delivered"),
        (0x02, "delivered"),
        (0x20, "pending"),
        (0x30, "pending"),
        (0x41, "failed"),
        (0x60, "failed"),
        (0x7F, "failed"),
        (0x80, "failed"),
    ],
)
def test_status_report_states(status: int, state: str) -> None:
    """TP-ST ranges map to delivered / pending / failed."""
    when = datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC)
    rep = decode_pdu(
        encode_status_report(9, "+447700900123", scts=when, discharge=when, status=status)
    )
    assert isinstance(rep, SmsStatusReport)
    assert (rep.reference, rep.status, rep.state) == (9, status, state)


# --- encode_submit -------------------------------------------------------------------------
