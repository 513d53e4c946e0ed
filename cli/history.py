"""``smsd history``: a business's callers by user code and time; never a phone number."""

from __future__ import annotations

from datetime import datetime

import click

from cli.context import Context, command_edge, pass_ctx
from cli.filters import history_filters, utc
from cli.output import echo_json, echo_table
from store.business_view import BusinessView

__all__ = ["history"]


@click.command()
@click.argument("company_name", metavar="COMPANY")
@history_filters
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Show only the latest N requests.",
)
@click.option("--all", "show_all", is_flag=True, help="Show every request (ignores --limit).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_ctx
@command_edge
def history(
    ctx: Context,
    company_name: str,
    keyword: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    show_all: bool,
    as_json: bool,
) -> None:
    """A business's callers by user code: code and time (latest page). Never a phone number.

    \b
    Example:
      smsd history "Pizza Place" --code PIZZA --since 2026-11-01
      smsd history "Pizza Place" --limit 20
    """
    view = BusinessView(ctx.store(read_only=True).directory, company_name)
    args = (keyword, utc(since), utc(until))
    if show_all:
        rows = view.history(*args)
    else:
        page = view.page(*args, limit=limit)
        rows = list(page.rows)
        if page.before is not None:
            click.echo(f"showing the latest {limit}; --all for every request", err=True)
    records = [{"user_code": r.user_code, "code": r.keyword, "at": r.at} for r in rows]
    if as_json:
        echo_json(records)
    else:
        echo_table(records, ["user_code", "code", "at"], empty="no requests yet")
