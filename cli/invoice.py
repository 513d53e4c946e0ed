"""``smsd invoice``: create, list and show monthly invoices (exact decimal money)."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from cli.context import Context, command_edge, pass_ctx
from cli.output import echo_json, echo_table
from cli.render import safe
from store.errors import InvalidInput
from store.invoices import Invoice

__all__ = ["invoice"]


def _lines(invoice: Invoice) -> list[dict[str, object]]:
    return [
        {
            "kind": line.kind,
            "description": line.description,
            "quantity": line.quantity,
            "unit_price": str(line.unit_price),
            "amount": str(line.amount),
        }
        for line in invoice.lines
    ]


def _document(invoice: Invoice) -> dict[str, object]:
    return {
        "number": invoice.number,
        "business": invoice.business,
        "month": invoice.month,
        "currency": invoice.currency,
        "lines": _lines(invoice),
        "total": str(invoice.total),
        "created_at": invoice.created_at,
    }


def _print(invoice: Invoice) -> None:
    click.echo(
        f"{invoice.number}  {safe(invoice.business)}  {invoice.month}  ({safe(invoice.currency)})"
    )
    echo_table(_lines(invoice), ["description", "quantity", "unit_price", "amount"])
    click.echo(f"total: {invoice.total} {safe(invoice.currency)}")


def _check_month(month: str, created_at: datetime | None) -> None:
    """`month` is YYYY-MM and not before the business existed (the store refuses the future)."""
    try:
        start = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
    except ValueError:
        raise InvalidInput(f"--month must be YYYY-MM, got '{month}'") from None
    if created_at is not None and start < created_at.replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    ):
        raise InvalidInput(f"{month} is before the business was added ({created_at:%Y-%m})")


@click.group()
def invoice() -> None:
    """Monthly invoices: create, list, show.

    \b
    Example:
      smsd invoice create "Pizza Place" --month 2026-11
      smsd invoice list --json
    """


@invoice.command("create")
@click.argument("company_name", metavar="COMPANY")
@click.option("--month", required=True, help="A finished month, YYYY-MM (UTC).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_ctx
@command_edge
def invoice_create(ctx: Context, company_name: str, month: str, as_json: bool) -> None:
    """Bill COMPANY for MONTH at the configured prices; a month is billed only once.

    \b
    Example:
      smsd invoice create "Pizza Place" --month 2026-11
    """
    billing = ctx.config().billing
    store = ctx.store()
    _check_month(month, store.accounts.business_profile(company_name).created_at)
    made = store.invoices.create_invoice(
        company_name,
        month,
        price_per_request=billing.price_per_request,
        price_per_broadcast_part=billing.price_per_broadcast_part,
        currency=billing.currency,
    )
    if as_json:
        echo_json({**_document(made), "created": made.created})
        return
    if not made.created:
        click.echo(
            f"{made.number} already exists for {safe(made.business)} {made.month}; not billed again"
        )
    _print(made)


@invoice.command("list")
@click.option("--company", "company_name", help="Only this business's invoices.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_ctx
@command_edge
def invoice_list(ctx: Context, company_name: str | None, as_json: bool) -> None:
    """List invoices by month.

    \b
    Example:
      smsd invoice list --company "Pizza Place" --json
    """
    docs = [_document(i) for i in ctx.store(read_only=True).invoices.list_invoices(company_name)]
    if as_json:
        echo_json(docs)
    else:
        echo_table(docs, ["number", "business", "month", "total", "currency"], "no invoices")


@invoice.command("show")
@click.argument("number")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_ctx
@command_edge
def invoice_show(ctx: Context, number: str, as_json: bool) -> None:
    """Show one invoice with its lines.

    \b
    Example:
      smsd invoice show INV-2026-11-0001
    """
    found = ctx.store(read_only=True).invoices.get_invoice(number)
    if as_json:
        echo_json(_document(found))
    else:
        _print(found)
