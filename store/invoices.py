"""Monthly invoices from billable events, in exact decimal money.

An invoice covers one business and one finished calendar month (UTC); the table's
UNIQUE (business_id, month) means a month is billed once: asking again returns the invoice
already made. Counts come from `BusinessView.billable`, so invoices never touch personal data.
Amounts are `Decimal`, rounded half-up to the cent per line; cents are stored as integers and
the exact unit price as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from store.base import Part, StoreBase, from_ts, to_ts
from store.business_view import BusinessView
from store.directory import Directory
from store.errors import InvalidInput, NotFound

__all__ = ["Invoice", "InvoiceLine", "Invoices", "month_bounds"]

_MONTH = re.compile(r"(\d{4})-(\d{2})")
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class InvoiceLine:
    """One line: what, how many, at what unit price, for how much."""

    kind: str
    description: str
    quantity: int
    unit_price: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Invoice:
    """A stored invoice; `created` is False when an existing one was returned."""

    number: str
    business: str
    month: str
    currency: str
    lines: tuple[InvoiceLine, ...]
    total: Decimal
    created_at: datetime
    created: bool = True


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """[start, end) of a 'YYYY-MM' month in UTC; `InvalidInput` for anything else."""
    match = _MONTH.fullmatch(month.strip())
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise InvalidInput(f"month must be YYYY-MM, got {month!r}")
    year, mon = int(match.group(1)), int(match.group(2))
    start = datetime(year, mon, 1, tzinfo=UTC)
    end = datetime(year + mon // 12, mon % 12 + 1, 1, tzinfo=UTC)
    return start, end


def _money(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(_CENT)


def _cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value(ROUND_HALF_UP))


class Invoices(Part):
    """Creating and reading invoices (`store.invoices`)."""

    def __init__(self, core: StoreBase, directory: Directory) -> None:
        super().__init__(core)
        self._directory = directory

    def create_invoice(
        self,
        business: int | str,
        month: str,
        *,
        price_per_request: Decimal,
        price_per_broadcast_part: Decimal,
        currency: str,
        now: datetime | None = None,
    ) -> Invoice:
        """Bill `business` for a finished `month`; an existing invoice is returned unchanged."""
        start, end = month_bounds(month)
        at = now or datetime.now(UTC)
        if end > at:
            raise InvalidInput(f"month {month} is not over yet; invoice it from {end:%Y-%m-%d}")
        view = BusinessView(self._directory, business)
        key = f"{start:%Y-%m}"
        with self.core.transaction() as db:
            existing = self._invoice_row(view.business.id, key)
            if existing is not None:
                return self.get_invoice(existing, created=False)
            counts = view.billable(start, end)
            lines = [
                ("requests", "Requests answered", counts["requests"], price_per_request),
                ("broadcast", "Broadcast message parts sent", counts["broadcast_parts"],
                 price_per_broadcast_part),
            ]  # fmt: skip
            amounts = [(qty * price).quantize(_CENT, ROUND_HALF_UP) for _, _, qty, price in lines]
            seq = self._one("SELECT count(*) AS n FROM invoices WHERE month = ?", (key,))
            assert seq is not None
            number = f"INV-{start:%Y-%m}-{int(seq['n']) + 1:04d}"
            cur = db.execute(
                "INSERT INTO invoices (number, business_id, month, currency, total_cents,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (number, view.business.id, key, currency, _cents(sum(amounts, Decimal(0))),
                 to_ts(at)),
            )  # fmt: skip
            for (kind, text, qty, price), amount in zip(lines, amounts, strict=True):
                db.execute(
                    "INSERT INTO invoice_lines (invoice_id, description, quantity,"
                    " unit_price_cents, amount_cents, unit_price, kind)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (cur.lastrowid, text, qty, _cents(price), _cents(amount), str(price), kind),
                )
            return self.get_invoice(number)

    def get_invoice(self, number: str, *, created: bool = True) -> Invoice:
        """An invoice by number; `NotFound` otherwise."""
        row = self._one(
            "SELECT i.*, b.name FROM invoices i JOIN businesses b ON b.id = i.business_id"
            " WHERE i.number = ?",
            (number.strip().upper(),),
        )
        if row is None:
            raise NotFound(f"no invoice {number!r}")
        lines = tuple(
            InvoiceLine(
                r["kind"] or "",
                r["description"],
                int(r["quantity"]),
                Decimal(r["unit_price"]) if r["unit_price"] else _money(r["unit_price_cents"]),
                _money(r["amount_cents"]),
            )
            for r in self._rows(
                "SELECT * FROM invoice_lines WHERE invoice_id = ? ORDER BY id", (row["id"],)
            )
        )
        at = from_ts(row["created_at"])
        assert at is not None
        return Invoice(
            row["number"],
            row["name"],
            row["month"],
            row["currency"],
            lines,
            _money(row["total_cents"]),
            at,
            created,
        )

    def list_invoices(self, business: int | str | None = None) -> list[Invoice]:
        """Invoices, by month then number (one business's when given)."""
        if business is None:
            rows = self._rows("SELECT number FROM invoices ORDER BY month, number")
        else:
            owner = self._directory.get_business(business)
            rows = self._rows(
                "SELECT number FROM invoices WHERE business_id = ? ORDER BY month, number",
                (owner.id,),
            )
        return [self.get_invoice(r["number"]) for r in rows]

    def _invoice_row(self, business_id: int, month: str) -> str | None:
        row = self._one(
            "SELECT number FROM invoices WHERE business_id = ? AND month = ?",
            (business_id, month),
        )
        return None if row is None else str(row["number"])
