"""SMS PDU codec (3GPP TS 23.040 / 23.038), no I/O.

Decodes what a modem gives in PDU mode (SMS-DELIVER and SMS-STATUS-REPORT with the SMSC
octets in front), encodes SMS-SUBMIT for ``AT+CMGS`` and, for the simulator, SMS-DELIVER
and SMS-STATUS-REPORT.  See docs/PDU.md for the choices made where the spec leaves room.

Malformed input raises :class:`~modem.errors.PduError` and nothing else.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from modem.errors import PduError
from modem.pdu import gsm7
from modem.pdu.fields import (
    Reader,
    build_concat_udh,
    check_number,
    decode_address,
    decode_dcs,
    decode_scts,
    decode_validity,
    encode_address,
    encode_scts,
    encode_smsc,
    encode_validity,
    parse_udh,
    read_smsc,
)
from modem.pdu.split import split_message
from modem.pdu.types import (
    Concat,
    EncodedPdu,
    Encoding,
    SmsDeliver,
    SmsStatusReport,
    SmsSubmit,
)

__all__ = [
    "decode_pdu",
    "decode_submit",
    "encode_deliver",
    "encode_status_report",
    "encode_submit",
]

_MTI_DELIVER, _MTI_SUBMIT, _MTI_STATUS_REPORT = 0, 1, 2
_UDHI = 0x40
_DCS_FOR: dict[str, int] = {"gsm7": 0x00, "8bit": 0x04, "ucs2": 0x08}


# --- user data -----------------------------------------------------------------------------


def _decode_user_data(
    reader: Reader, udhi: bool, encoding: Encoding
) -> tuple[str | None, bytes, bytes, Concat | None]:
    """TP-UDL + TP-UD -> (text, data, udh, concat)."""
    udl = reader.octet("user data length")
    septets = encoding == "gsm7"
    body = reader.take((udl * 7 + 7) // 8 if septets else udl, "user data")
    udh = b""
    skip = 0  # octets (8-bit/UCS2) or septets (GSM-7) taken by the UDH
    if udhi:
        if not body:
            raise PduError("UDHI set but the user data is empty")
        udh = body[: 1 + body[0]]
        if len(udh) != 1 + body[0]:
            raise PduError("UDH longer than the user data")
        skip = (len(udh) * 8 + 6) // 7 if septets else len(udh)
        if skip > udl:
            raise PduError("UDH longer than the user data length")
    concat = parse_udh(udh[1:]) if udh else None
    if septets:
        data = gsm7.unpack(body, udl, skip)
        return gsm7.decode(data), data, udh, concat
    data = body[skip:]
    if encoding == "ucs2":
        # A lone surrogate (a pair split across parts by a careless sender) becomes U+FFFD;
        # ``data`` keeps the octets so a reassembler can join the pair again.
        return data.decode("utf-16-be", errors="replace"), data, udh, concat
    return None, data, udh, concat


def _encode_user_data(encoding: str, text: str, udh: bytes) -> tuple[int, bytes]:
    """(TP-UDL, TP-UD) for ``text`` after ``udh`` (UDHL included, or b"")."""
    if encoding == "gsm7":
        try:
            septets = gsm7.encode(text)
        except ValueError as exc:
            raise PduError(str(exc)) from exc
        start = (len(udh) * 8 + 6) // 7  # septets taken by the UDH and its fill bits
        packed = gsm7.pack(septets, start * 7)
        udl, ud = start + len(septets), udh + packed[len(udh) :]
        limit = 160
    elif encoding in ("ucs2", "8bit"):
        try:
            payload = text.encode("utf-16-be" if encoding == "ucs2" else "utf-8")
        except UnicodeEncodeError as exc:
            raise PduError(f"text cannot be encoded as {encoding}: {exc.reason}") from exc
        ud = udh + payload
        udl, limit = len(ud), 140
    else:
        raise PduError(f"unknown encoding {encoding!r}")
    if udl > limit:
        raise PduError(f"user data of {udl} exceeds {limit} for one part")
    return udl, ud


# --- decoding ------------------------------------------------------------------------------


def decode_pdu(hex_pdu: str) -> SmsDeliver | SmsStatusReport:
    """Decode a received PDU as ``AT+CMGR``/``+CMGL``/``+CMT``/``+CDS`` give it."""
    reader = Reader(hex_pdu)
    smsc = read_smsc(reader)
    first = reader.octet("first octet")
    mti = first & 0x03
    if mti == _MTI_DELIVER:
        return _decode_deliver(reader, smsc, first)
    if mti == _MTI_STATUS_REPORT:
        return _decode_status_report(reader, smsc)
    if mti == _MTI_SUBMIT:
        raise PduError("PDU is an SMS-SUBMIT (a stored outgoing message), not a received one")
    raise PduError("PDU has the reserved message type indicator 11")


def _decode_deliver(reader: Reader, smsc: str | None, first: int) -> SmsDeliver:
    sender = decode_address(reader, "originating address")
    pid = reader.octet("protocol identifier")
    dcs = reader.octet("data coding scheme")
    scts = decode_scts(reader, "service centre time stamp")
    info = decode_dcs(dcs)
    text, data, udh, concat = _decode_user_data(reader, bool(first & _UDHI), info.encoding)
    return SmsDeliver(
        smsc=smsc,
        sender=sender,
        pid=pid,
        dcs=dcs,
        encoding=info.encoding,
        message_class=info.message_class,
        scts=scts,
        text=text,
        data=data,
        udh=udh,
        concat=concat,
        status_report_indication=bool(first & 0x20),
    )


def _decode_status_report(reader: Reader, smsc: str | None) -> SmsStatusReport:
    # TP-PI and the optional PID/DCS/UD after TP-ST carry nothing we use: not read.
    reference = reader.octet("message reference")
    recipient = decode_address(reader, "recipient address")
    scts = decode_scts(reader, "service centre time stamp")
    discharge = decode_scts(reader, "discharge time")
    status = reader.octet("status")
    return SmsStatusReport(smsc, reference, recipient, scts, discharge, status)


def decode_submit(hex_pdu: str) -> SmsSubmit:
    """Decode an SMS-SUBMIT with the SMSC octets in front (what ``AT+CMGS`` receives)."""
    reader = Reader(hex_pdu)
    read_smsc(reader)
    first = reader.octet("first octet")
    if first & 0x03 != _MTI_SUBMIT:
        raise PduError("PDU is not an SMS-SUBMIT")
    reference = reader.octet("message reference")
    recipient = decode_address(reader, "destination address")
    reader.octet("protocol identifier")
    dcs = reader.octet("data coding scheme")
    validity = decode_validity(reader, (first >> 3) & 0x03)
    info = decode_dcs(dcs)
    text, data, _udh, concat = _decode_user_data(reader, bool(first & _UDHI), info.encoding)
    return SmsSubmit(
        recipient=recipient,
        reference=reference,
        dcs=dcs,
        encoding=info.encoding,
        text=text,
        data=data,
        concat=concat,
        status_report_request=bool(first & 0x20),
        validity=validity,
    )


# --- encoding ------------------------------------------------------------------------------


def encode_submit(
    number: str,
    text: str,
    *,
    concat_reference: int = 0,
    status_report: bool = False,
    validity: timedelta | None = None,
    reference_bits: int = 8,
) -> list[EncodedPdu]:
    """SMS-SUBMIT PDUs for ``text`` to ``number`` (``+`` and 1-20 digits), one per part.

    SMSC ``00`` (the modem's default), TP-MR 0 (the modem assigns it), relative validity
    when given; a concat UDH with ``concat_reference`` when the text needs several parts.
    """
    check_number(number)
    encoding, parts = split_message(text, reference_bits=reference_bits)
    if not 0 <= concat_reference < (1 << reference_bits):
        raise PduError(f"concat_reference out of range for {reference_bits}-bit references")
    first = _MTI_SUBMIT | (0x20 if status_report else 0)
    vp = b""
    if validity is not None:
        first |= 0x10  # TP-VPF = 10, relative
        vp = bytes((encode_validity(validity),))
    head = bytes((0x00,)) + encode_address(number)  # TP-MR 0, then TP-DA
    tail = bytes((0x00, _DCS_FOR[encoding])) + vp  # TP-PID, TP-DCS, TP-VP
    pdus = []
    for seq, part in enumerate(parts, start=1):
        udh = b""
        if len(parts) > 1:
            concat = Concat(concat_reference, len(parts), seq, reference_bits)
            udh = build_concat_udh(concat)
        udl, ud = _encode_user_data(encoding, part, udh)
        tpdu = bytes((first | (_UDHI if udh else 0),)) + head + tail + bytes((udl,)) + ud
        pdus.append(EncodedPdu(hex=("00" + tpdu.hex()).upper(), tpdu_length=len(tpdu)))
    return pdus


def encode_deliver(
    sender: str,
    text: str,
    *,
    scts: datetime,
    concat: Concat | None = None,
    encoding: str | None = None,
    smsc: str | None = None,
) -> str:
    """One SMS-DELIVER PDU (hex, SMSC octets in front) as a modem would report it.

    ``sender``: ``+digits`` (international), ``digits`` (national) or text (alphanumeric).
    ``encoding`` None picks GSM-7 when possible, else UCS2; ``"8bit"`` sends UTF-8 octets.
    The text must fit one part (with the concat UDH when ``concat`` is given).
    """
    if encoding is None:
        encoding = "gsm7" if gsm7.is_encodable(text) else "ucs2"
    if encoding not in _DCS_FOR:
        raise PduError(f"unknown encoding {encoding!r}")
    udh = build_concat_udh(concat) if concat is not None else b""
    udl, ud = _encode_user_data(encoding, text, udh)
    first = _MTI_DELIVER | 0x04 | (_UDHI if udh else 0)  # 0x04: TP-MMS, no more messages
    tpdu = (
        bytes((first,))
        + encode_address(sender, alphanumeric_ok=True, plain_toa=0xA1)
        + bytes((0x00, _DCS_FOR[encoding]))
        + encode_scts(scts)
        + bytes((udl,))
        + ud
    )
    return (encode_smsc(smsc) + tpdu).hex().upper()


def encode_status_report(
    reference: int, recipient: str, *, scts: datetime, discharge: datetime, status: int
) -> str:
    """One SMS-STATUS-REPORT PDU (hex, SMSC ``00`` in front) for the simulator."""
    if not 0 <= reference <= 0xFF or not 0 <= status <= 0xFF:
        raise PduError("reference and status must be 0..255")
    tpdu = (
        bytes((_MTI_STATUS_REPORT | 0x04, reference))
        + encode_address(recipient)
        + encode_scts(scts)
        + encode_scts(discharge)
        + bytes((status,))
    )
    return "00" + tpdu.hex().upper()
