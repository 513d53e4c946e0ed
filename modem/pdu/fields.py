"""Field codecs of TS 23.040: addresses, time stamps, DCS, UDH, validity period.

Every decoding helper raises :class:`~modem.errors.PduError` for malformed input and nothing
else; the public entry points are in :mod:`modem.pdu`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from modem.errors import PduError
from modem.pdu import gsm7
from modem.pdu.types import TON_ALPHANUMERIC, TON_INTERNATIONAL, Address, Concat, Encoding

__all__ = [
    "DcsInfo",
    "Reader",
    "build_concat_udh",
    "check_number",
    "decode_address",
    "decode_dcs",
    "decode_scts",
    "decode_validity",
    "encode_address",
    "encode_scts",
    "encode_smsc",
    "encode_validity",
    "parse_udh",
    "read_smsc",
    "relative_validity",
]

_HEX = re.compile(r"[0-9A-Fa-f]*")
_SEMI_OCTET = "0123456789*#abc"  # TS 23.040 §9.1.2.3; 0xF is the filler
_NUMBER = re.compile(r"\+?[0-9]{1,20}")


class Reader:
    """Cursor over the octets of a PDU; running off the end is a :class:`PduError`."""

    def __init__(self, hex_pdu: str) -> None:
        text = hex_pdu.strip() if isinstance(hex_pdu, str) else None
        if text is None or len(text) % 2 or not _HEX.fullmatch(text):
            raise PduError("PDU is not an even-length hex string")
        self.data = bytes.fromhex(text)
        self.pos = 0

    def take(self, n: int, what: str) -> bytes:
        """The next ``n`` octets, named ``what`` in the error if they are missing."""
        if n < 0 or self.pos + n > len(self.data):
            raise PduError(f"PDU truncated in {what}")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def octet(self, what: str) -> int:
        """The next octet as an int."""
        return self.take(1, what)[0]

    def rest(self) -> bytes:
        """All remaining octets."""
        chunk = self.data[self.pos :]
        self.pos = len(self.data)
        return chunk


# --- addresses -----------------------------------------------------------------------------


def _bcd_digits(octets: bytes, count: int) -> str:
    """Swapped semi-octets -> digit string of ``count`` digits (filler 0xF not counted)."""
    out: list[str] = []
    for octet in octets:
        for nibble in (octet & 0x0F, octet >> 4):
            # A stray filler inside the number is skipped rather than refused: losing a
            # message over a cosmetic defect in the sender's number is the worse outcome.
            if len(out) < count and nibble != 0x0F:
                out.append(_SEMI_OCTET[nibble])
    return "".join(out)


def _make_address(digits: str, toa: int) -> Address:
    ton, npi = (toa >> 4) & 0x07, toa & 0x0F
    if ton == TON_INTERNATIONAL and digits:
        digits = "+" + digits
    return Address(digits, ton, npi)


def decode_address(reader: Reader, what: str) -> Address:
    """TP-OA/DA/RA: length in semi-octets (useful ones), type of address, value."""
    length = reader.octet(f"{what} length")
    toa = reader.octet(f"{what} type")
    body = reader.take((length + 1) // 2, what)
    if (toa >> 4) & 0x07 == TON_ALPHANUMERIC:
        # Alphanumeric: GSM-7 packed; the length counts semi-octets actually used.
        septets = gsm7.unpack(body, length * 4 // 7)
        return Address(gsm7.decode(septets), TON_ALPHANUMERIC, toa & 0x0F)
    return _make_address(_bcd_digits(body, length), toa)


def read_smsc(reader: Reader) -> str | None:
    """The SMSC information in front of a PDU from the modem (length in octets, 0 = none)."""
    length = reader.octet("SMSC length")
    if length == 0:
        return None
    toa = reader.octet("SMSC type")
    body = reader.take(length - 1, "SMSC address")
    digits = []
    for octet in body:
        for nibble in (octet & 0x0F, octet >> 4):
            if nibble != 0x0F:
                digits.append(_SEMI_OCTET[nibble])
    return _make_address("".join(digits), toa).number or None


def _bcd_encode(digits: str) -> bytes:
    if len(digits) % 2:
        digits += "F"
    return bytes.fromhex("".join(digits[i + 1] + digits[i] for i in range(0, len(digits), 2)))


def check_number(number: str) -> str:
    """Digits of a phone number (``+`` then 1-20 digits); anything else is a PduError.

    This is the guard that keeps anything but digits out of ``AT+CMGS`` and the PDU.
    """
    if not isinstance(number, str) or not _NUMBER.fullmatch(number):
        raise PduError("number must be an optional '+' followed by 1-20 digits")
    return number.lstrip("+")


def encode_address(value: str, *, alphanumeric_ok: bool = False, plain_toa: int = 0x81) -> bytes:
    """A TP-OA/DA/RA field: ``+digits`` -> 0x91, ``digits`` -> ``plain_toa``, else alnum 0xD0."""
    if alphanumeric_ok and not _NUMBER.fullmatch(value):
        try:
            septets = gsm7.encode(value)
        except ValueError as exc:
            raise PduError("alphanumeric address is not GSM-7 text") from exc
        if not septets or len(septets) > 11:
            raise PduError("alphanumeric address must be 1-11 septets")
        return bytes(((len(septets) * 7 + 3) // 4, 0xD0)) + gsm7.pack(septets)
    digits = check_number(value)
    toa = 0x91 if value.startswith("+") else plain_toa
    return bytes((len(digits), toa)) + _bcd_encode(digits)


def encode_smsc(smsc: str | None) -> bytes:
    """SMSC information: ``00`` for the modem's default, else length, 0x91/0x81 and digits."""
    if smsc is None:
        return b"\x00"
    digits = check_number(smsc)
    body = bytes((0x91 if smsc.startswith("+") else 0x81,)) + _bcd_encode(digits)
    return bytes((len(body),)) + body


# --- time stamps ---------------------------------------------------------------------------


def _swapped(octet: int) -> int:
    low, high = octet & 0x0F, octet >> 4
    if low > 9 or high > 9:
        raise PduError("time stamp digit is not decimal")
    return low * 10 + high


def decode_scts(reader: Reader, what: str) -> datetime:
    """TP-SCTS / TP-DT: 7 swapped-BCD octets, the last the offset in quarter hours."""
    raw = reader.take(7, what)
    year, month, day, hour, minute, second = (_swapped(o) for o in raw[:6])
    tz = raw[6]
    # The sign is bit 3 of the first semi-octet (the low nibble, which holds the tens).
    negative = bool(tz & 0x08)
    quarters = _swapped(tz & 0xF7)
    offset = timedelta(minutes=15 * quarters)
    try:
        return datetime(
            2000 + year,
            month,
            day,
            hour,
            minute,
            second,
            tzinfo=timezone(-offset if negative else offset),
        )
    except ValueError as exc:
        raise PduError(f"{what} is not a valid date/time: {exc}") from exc


def encode_scts(when: datetime) -> bytes:
    """An aware datetime (year 2000-2099, offset in whole quarter hours) -> 7 octets."""
    offset = when.utcoffset()
    if offset is None:
        raise PduError("time stamp must be timezone-aware")
    quarters, rest = divmod(abs(int(offset.total_seconds())), 900)
    if rest or quarters > 79 or not 2000 <= when.year <= 2099:
        raise PduError("time stamp out of range for TP-SCTS")
    values = (when.year - 2000, when.month, when.day, when.hour, when.minute, when.second)
    octets = [(v % 10) << 4 | (v // 10) for v in values]
    tz = (quarters % 10) << 4 | (quarters // 10)
    if offset < timedelta(0):
        tz |= 0x08
    return bytes([*octets, tz])


# --- validity period -----------------------------------------------------------------------


def relative_validity(vp: int) -> timedelta:
    """The relative TP-VP octet (TS 23.040 §9.2.3.12.1) as a duration."""
    if vp <= 143:
        return timedelta(minutes=5 * (vp + 1))
    if vp <= 167:
        return timedelta(hours=12, minutes=30 * (vp - 143))
    if vp <= 196:
        return timedelta(days=vp - 166)
    return timedelta(weeks=vp - 192)


def encode_validity(validity: timedelta) -> int:
    """The smallest relative TP-VP octet that is at least ``validity`` (capped at 63 weeks)."""
    if validity < timedelta(0):
        raise PduError("validity must not be negative")
    for vp in range(256):
        if relative_validity(vp) >= validity:
            return vp
    return 255


def decode_validity(reader: Reader, vpf: int) -> timedelta | None:
    """TP-VP per TP-VPF: none, relative, enhanced (relative forms only) or absolute (None)."""
    if vpf == 0:
        return None
    if vpf == 2:
        return relative_validity(reader.octet("validity period"))
    raw = reader.take(7, "validity period")
    if vpf == 3:
        # Absolute: a point in time, not a duration; SmsSubmit.validity cannot hold it.
        return None
    kind = raw[0] & 0x07
    if kind == 1:
        return relative_validity(raw[1])
    if kind == 2:
        return timedelta(seconds=raw[1])
    if kind == 3:
        h, m, s = (_swapped(o) for o in raw[1:4])
        return timedelta(hours=h, minutes=m, seconds=s)
    return None


# --- data coding scheme --------------------------------------------------------------------


@dataclass(frozen=True)
class DcsInfo:
    """What a TP-DCS octet says about the user data."""

    encoding: Encoding
    message_class: int | None
    compressed: bool  # compressed text is stored as 8-bit data (text None)


def decode_dcs(dcs: int) -> DcsInfo:
    """TS 23.038 §4: general (00xx/01xx), message waiting (1100-1110), class (1111) groups."""
    group = dcs >> 4
    if group <= 0x7:  # general data coding, 01xx = marked for automatic deletion
        compressed = bool(dcs & 0x20)
        cls = dcs & 0x03 if dcs & 0x10 else None
        alphabet = (dcs >> 2) & 0x03
        encoding: Encoding = ("gsm7", "8bit", "ucs2", "8bit")[alphabet]  # 11 is reserved
        if compressed:
            encoding = "8bit"
        return DcsInfo(encoding, cls, compressed)
    if group in (0xC, 0xD):
        return DcsInfo("gsm7", None, False)
    if group == 0xE:
        return DcsInfo("ucs2", None, False)
    if group == 0xF:
        return DcsInfo("8bit" if dcs & 0x04 else "gsm7", dcs & 0x03, False)
    return DcsInfo("8bit", None, False)  # 1000-1011: reserved groups, keep the octets


# --- user data header ----------------------------------------------------------------------


def parse_udh(udh: bytes) -> Concat | None:
    """Walk the information elements of a UDH (without its length octet); find concat.

    Structural errors are PduErrors; a concat IE with total or sequence 0, or sequence
    beyond total, is ignored as TS 23.040 §9.2.3.24.1 asks.
    """
    concat: Concat | None = None
    i = 0
    while i < len(udh):
        if i + 2 > len(udh):
            raise PduError("UDH information element truncated")
        iei, length = udh[i], udh[i + 1]
        body = udh[i + 2 : i + 2 + length]
        if len(body) != length:
            raise PduError("UDH information element longer than the UDH")
        i += 2 + length
        if iei in (0x00, 0x08):
            bits = 8 if iei == 0x00 else 16
            if length != bits // 8 + 2:
                raise PduError(f"concatenation IE 0x{iei:02X} has length {length}")
            ref = int.from_bytes(body[:-2], "big")
            total, seq = body[-2], body[-1]
            if total and 1 <= seq <= total:
                concat = Concat(ref, total, seq, bits)
    return concat


def build_concat_udh(concat: Concat) -> bytes:
    """UDHL + the concat IE (0x00 or 0x08 by ``concat.bits``)."""
    if concat.bits == 8 and 0 <= concat.reference <= 0xFF:
        ie = bytes((0x00, 3, concat.reference))
    elif concat.bits == 16 and 0 <= concat.reference <= 0xFFFF:
        ie = bytes((0x08, 4)) + concat.reference.to_bytes(2, "big")
    else:
        raise PduError("concat reference out of range for its bits (8 or 16)")
    if not 1 <= concat.sequence <= concat.total <= 255:
        raise PduError("concat sequence/total out of range")
    ie += bytes((concat.total, concat.sequence))
    return bytes((len(ie),)) + ie
