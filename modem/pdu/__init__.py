"""The SMS PDU codec (3GPP TS 23.040 / 23.038): pure functions and frozen dataclasses, no I/O.

Modules: :mod:`~modem.pdu.codec` (decode/encode SUBMIT, DELIVER, STATUS-REPORT),
:mod:`~modem.pdu.fields` (addresses, time stamps, DCS, UDH), :mod:`~modem.pdu.gsm7` (the
GSM 03.38 alphabet and septet packing), :mod:`~modem.pdu.split` (multipart splitting) and
:mod:`~modem.pdu.types` (the value types). Imports nothing of the modem driver or the
simulator; malformed input raises :class:`~modem.errors.PduError`.

A face whose names are imported when first asked for (PEP 562 ``__getattr__``, as the `store`
package face): ``from modem.pdu import split_message`` loads the splitter and the alphabet
only, so counting a text's parts (`smsd send`, on every call) never builds the codec's six
dataclasses; ``from modem.pdu import decode_pdu`` loads the codec.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modem.pdu import gsm7
    from modem.pdu.codec import (
        decode_pdu,
        decode_submit,
        encode_deliver,
        encode_status_report,
        encode_submit,
    )
    from modem.pdu.split import split_message
    from modem.pdu.types import (
        Address,
        Concat,
        EncodedPdu,
        SmsDeliver,
        SmsStatusReport,
        SmsSubmit,
    )

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

#: Names imported on first use, and the module each comes from.
_LAZY = {
    **dict.fromkeys(
        ("decode_pdu", "decode_submit", "encode_deliver", "encode_status_report", "encode_submit"),
        "modem.pdu.codec",
    ),
    **dict.fromkeys(
        ("Address", "Concat", "EncodedPdu", "SmsDeliver", "SmsStatusReport", "SmsSubmit"),
        "modem.pdu.types",
    ),
    "split_message": "modem.pdu.split",
}


def __getattr__(name: str) -> object:
    """Import a codec name when it is first asked for (see the module docstring)."""
    if name == "gsm7":
        return importlib.import_module("modem.pdu.gsm7")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value: object = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
