"""Operator safety: the checks `smsd send` and `smsd broadcast` make before queueing anything.

Each check raises `Refused` with one line that says why and how to proceed (`--force`, a
shorter text). Kept out of the CLI so the web and API layers refuse the same things. What an
operator is shown before and after (a broadcast's preview, the consent record) is in
`smsd.operator_views`; this module stays light because `smsd send` imports it on every call:
the part counter (`modem.pdu.split`) and the error classes, nothing of the store at import.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from modem.pdu.split import split_message
from smsd.errors import Refused

if TYPE_CHECKING:  # annotations only: the caller hands over an open store
    from store.store import Store

__all__ = ["check_parts", "check_recipient", "check_repeat", "count_parts"]


def count_parts(text: str) -> int:
    """How many SMS parts `text` takes (GSM-7 or UCS-2, as the sender will encode it)."""
    return len(split_message(text)[1])


def check_parts(text: str, max_parts: int) -> int:
    """The part count, or `Refused` when it is over `max_parts` (`[outgoing] max_parts`)."""
    parts = count_parts(text)
    if parts > max_parts:
        raise Refused(
            f"the text is {parts} parts ({len(text)} characters); [outgoing] max_parts is"
            f" {max_parts}: shorten it"
        )
    return parts


def check_recipient(store: Store, phone: str, *, force: bool) -> bool:
    """False if `phone` may be texted; True if it opted out and `force` overrides that.

    `Refused` when it opted out and `force` is not given.
    """
    if not store.optouts.opted_out(phone):
        return False
    if not force:
        raise Refused("that number opted out (texted STOP); use --force to send anyway (audited)")
    return True


def check_repeat(
    store: Store, business_id: int, text: str, since: datetime, *, force: bool
) -> None:
    """`Refused` if the business broadcast this text since `since`, or has it scheduled."""
    if force:
        return
    if store.schedules.identical_since(business_id, text, since):
        raise Refused(
            "the same text was broadcast to this audience recently (or is scheduled);"
            " use --force to send it again"
        )
