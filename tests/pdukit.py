"""Shared PDU fixtures for the codec tests: published example PDUs and a DELIVER builder."""

from __future__ import annotations

from modem.pdu import SmsDeliver, decode_pdu

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
