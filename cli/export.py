"""``smsd export``: a business's history as CSV or JSON, to stdout or a private file; audited."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import datetime

import click

from cli.context import Context, command_edge, pass_ctx
from cli.filters import export_options, history_filters, utc
from cli.operator import operator_name, write_private
from store.business_view import BusinessView

__all__ = ["export"]

_PROGRESS_FROM = 1000  # rows: smaller exports finish before a bar would help


@click.command()
@click.argument("company_name", metavar="COMPANY")
@history_filters
@export_options
@pass_ctx
@command_edge
def export(
    ctx: Context,
    company_name: str,
    keyword: str | None,
    since: datetime | None,
    until: datetime | None,
    fmt: str,
    output: str | None,
) -> None:
    """Export a business's history (user code, code, time) as CSV or JSON; audited.

    \b
    Example:
      smsd export "Pizza Place" --format csv --output pizza.csv
    """
    store = ctx.store()
    view = BusinessView(store.directory, company_name)
    args = (keyword, utc(since), utc(until))
    total = view.count_history(*args)
    rows: list[dict[str, str]] = []
    show_bar = total >= _PROGRESS_FROM and output is not None
    with click.progressbar(
        view.iter_history(*args), length=total, label="exporting", file=sys.stderr,
        hidden=not show_bar,
    ) as bar:  # fmt: skip
        rows = [{"user_code": r.user_code, "code": r.keyword, "at": r.at.isoformat()} for r in bar]
    store.audit.record_audit(operator_name(), "export", view.business.name, f"{fmt}, {total} rows")
    if fmt == "json":
        text = json.dumps(rows, indent=2, sort_keys=True) + "\n"
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, ["user_code", "code", "at"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        text = buffer.getvalue()
    if output is None:
        click.echo(text, nl=False)
    else:
        write_private(output, text)
        click.echo(f"exported {total} rows to {output}", err=True)
