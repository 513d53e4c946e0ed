"""Frozen dataclasses of the PDU codec (docs/ARCHITECTURE.md, "modem/pdu/").

Import them from :mod:`modem.pdu`; they live here so that the field helpers in
:mod:`modem.pdu.fields` can build them without a circular import.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

__all__ = [
    "Address",
    "Concat",
    "EncodedPdu",
    "Encoding",
    "SmsDeliver",
    "SmsStatusReport",
    "SmsSubmit",
]

Encoding = Literal["gsm7", "ucs2", "8bit"]

TON_INTERNATIONAL = 1
TON_NATIONAL = 2
TON_ALPHANUMERIC = 5


@dataclass(frozen=True)
class Address:
    """A TP-OA / TP-DA / TP-RA / SMSC address (TS 23.040 §9.1.2.5)."""

    number: str  # digits, with leading "+" when international (TON 1); text when alphanumeric
    ton: int  # type of number (0..7)
    npi: int  # numbering plan (0..15)

    @property
    def kind(self) -> Literal["international", "national", "alphanumeric", "other"]:
        """What the type of number says: only TON 1, 2 and 5 have a kind of their own."""
        if self.ton == TON_INTERNATIONAL:
            return "international"
        if self.ton == TON_NATIONAL:
            return "national"
        if self.ton == TON_ALPHANUMERIC:
            return "alphanumeric"
        return "other"


@dataclass(frozen=True)
class Concat:
    """A concatenation information element (IEI 0x00 or 0x08, TS 23.040 §9.2.3.24.1/8)."""

    reference: int  # 0..255 (8-bit IEI 0x00) or 0..65535 (16-bit IEI 0x08)
    total: int
    sequence: int  # 1-based
    bits: int  # 8 or 16


@dataclass(frozen=True)
class SmsDeliver:
    """A decoded SMS-DELIVER (a received message or one part of it)."""

    smsc: str | None
    sender: Address
    pid: int
    dcs: int
    encoding: Encoding
    message_class: int | None
    scts: datetime  # aware, with the PDU's own offset
    text: str | None  # None for 8-bit data (and compressed text, see docs/PDU.md)
    data: bytes  # user data without the UDH (octets; unpacked septets for gsm7)
    udh: bytes  # raw UDH (b"" if none)
    concat: Concat | None
    status_report_indication: bool


@dataclass(frozen=True)
class SmsStatusReport:
    """A decoded SMS-STATUS-REPORT."""

    smsc: str | None
    reference: int  # TP-MR 0..255 of the SUBMIT it reports on
    recipient: Address
    scts: datetime
    discharge: datetime
    status: int  # TP-ST

    @property
    def state(self) -> Literal["delivered", "pending", "failed"]:
        """TP-ST by range (TS 23.040 §9.2.3.15); reserved values count as failed."""
        if self.status <= 0x1F:
            return "delivered"
        if self.status <= 0x3F:
            # 0x20-0x3F: temporary error, the SC is still trying.
            return "pending"
        # 0x40-0x5F permanent error, 0x60-0x7F temporary error the SC gave up on; values
        # above 0x7F are reserved and treated as "service rejected" (a permanent error).
        return "failed"


@dataclass(frozen=True)
class SmsSubmit:
    """A decoded SMS-SUBMIT (used by the simulator)."""

    recipient: Address
    reference: int  # TP-MR as written in the PDU (0 normally; the modem assigns)
    dcs: int
    encoding: Encoding
    text: str | None
    data: bytes
    concat: Concat | None
    status_report_request: bool
    validity: timedelta | None


@dataclass(frozen=True)
class EncodedPdu:
    """One SUBMIT ready for ``AT+CMGS``."""

    hex: str  # upper-case hex, starting with the SMSC octets ("00" = modem default)
    tpdu_length: int  # octets after the SMSC part: the <length> of AT+CMGS
