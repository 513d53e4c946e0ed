"""The SMS PDU codec (3GPP TS 23.040 / 23.038): pure functions and frozen dataclasses, no I/O.

Modules: :mod:`~modem.pdu.codec` (decode/encode SUBMIT, DELIVER, STATUS-REPORT),
:mod:`~modem.pdu.fields` (addresses, time stamps, DCS, UDH), :mod:`~modem.pdu.gsm7` (the
GSM 03.38 alphabet and septet packing), :mod:`~modem.pdu.split` (multipart splitting) and
:mod:`~modem.pdu.types` (the value types). Imports nothing of the modem driver or the
simulator; malformed input raises :class:`~modem.errors.PduError`.
"""

from modem.pdu import gsm7
from modem.pdu.codec import (
    decode_pdu,
    decode_submit,
    encode_deliver,
    encode_status_report,
    encode_submit,
)
from modem.pdu.split import split_message
from modem.pdu.types import Address, Concat, EncodedPdu, SmsDeliver, SmsStatusReport, SmsSubmit

__all__ = [
    "Address",
    "Concat",
    "EncodedPdu",
    "SmsDeliver",
    "SmsStatusReport",
    "SmsSubmit",
    "decode_pdu",
    "decode_submit",
    "encode_deliver",
    "encode_status_report",
    "encode_submit",
    "gsm7",
    "split_message",
]
