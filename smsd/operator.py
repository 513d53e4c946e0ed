"""Operator safety: the checks `smsd send` and `smsd broadcast` make before queueing anything.

Each check raises `Refused` with one line that says why and how to proceed (`--force`, a
shorter text). Kept out of the CLI so the web and API layers refuse the same things.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from modem.pdu import split_message
from smsd.errors import Refused
from store import Store
from store.business_view import BusinessView
from store.rules_models import ConsentRecord

__all__ = [
    "BroadcastPreview",
    "check_parts",
    "check_recipient",
    "check_repeat",
    "consent_document",
    "count_parts",
    "preview_broadcast",
]

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class BroadcastPreview:
    """What a broadcast would do: recipients, parts per text, messages and cost."""

    business: str
    recipients: int
    parts: int
    messages: int
    cost: Decimal
    currency: str


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
    if not store.consent.opted_out(phone):
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


def preview_broadcast(
    store: Store, business: int | str, text: str, *, price_per_part: Decimal, currency: str
) -> BroadcastPreview:
    """Recipients (currently opted in), parts and cost of broadcasting `text` now."""
    view = BusinessView(store.directory, business)
    recipients = view.optin_counts()["in"]
    parts = count_parts(text)
    return BroadcastPreview(
        view.business.name, recipients, parts, recipients * parts,
        price_per_part * recipients * parts, currency,
    )  # fmt: skip


def _safe_cell(value: str) -> str:
    """Handset text as a CSV cell: control characters shown as escapes, no formula start."""
    shown = "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
        for ch in value
    )
    return "'" + shown if shown.startswith(_FORMULA_START) else shown


def consent_document(records: Sequence[ConsentRecord], fmt: Literal["csv", "json"]) -> str:
    """The consent records as CSV (formula-safe, no control characters) or one JSON document.

    JSON escapes control characters itself (``\\u001b``), so either is safe on a terminal.
    """
    rows = [
        {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(r).items()}
        for r in records
    ]
    if fmt == "json":
        return json.dumps(rows, indent=2, ensure_ascii=False)
    out = io.StringIO()
    fields = list(ConsentRecord.__dataclass_fields__)
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else _safe_cell(str(v)) for k, v in row.items()})
    return out.getvalue()
