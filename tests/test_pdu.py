"""PDU codec: worked examples from TS 23.040 and well-known public PDUs, fields, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from modem.errors import PduError
from modem.pdu import (
    Address,
    Concat,
    SmsDeliver,
    SmsStatusReport,
    decode_pdu,
    decode_submit,
    encode_deliver,
    encode_status_report,
    encode_submit,
)

# The widely published DELIVER example (dreamfabric "SMS and the PDU format"): the user data
# is "How are you?" — not "hellohello", which is that page's SUBMIT example below.
HOW_ARE_YOU = "07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07"
HELLOHELLO_SUBMIT = "0011000B916407281553F80000AA0AE8329BFD4697D9EC37"

OA = "0C91447700091032"  # +447700900123
SCTS = "12402121430000"  # 2021-04-12 12:34:00 +00:00


def deliver_hex(dcs: int, ud_hex: str, udl: int, first: int = 0x04, oa: str = OA) -> str:
    """A DELIVER PDU with SMSC 00 and the given first octet, DCS and user data."""
    return f"00{first:02X}{oa}00{dcs:02X}{SCTS}{udl:02X}{ud_hex}"


def as_deliver(hex_pdu: str) -> SmsDeliver:
    """decode_pdu, asserting the result is a DELIVER."""
    msg = decode_pdu(hex_pdu)
    assert isinstance(msg, SmsDeliver)
    return msg


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
