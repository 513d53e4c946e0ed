"""What an operator is shown: a broadcast's preview (recipients, parts, cost) and the consent
record as a document (CSV safe for a spreadsheet, or JSON).

Shared by the CLI (`smsd broadcast`, `smsd consent`) and the portal; the checks made before
queueing anything are `smsd.operator`.
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

from smsd.operator import count_parts
from store.business_view import BusinessView
from store.rules_models import ConsentRecord
from store.store import Store

__all__ = ["BroadcastPreview", "consent_document", "preview_broadcast"]

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
