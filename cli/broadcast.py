"""``smsd broadcast``: queue a message to everyone opted in to a business."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from cli.context import Context, command_edge, pass_ctx
from cli.output import echo_json
from store.business_view import BusinessView

__all__ = ["broadcast"]


@click.command()
@click.argument("company_name", metavar="COMPANY")
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON document.")
@pass_ctx
@command_edge
def broadcast(ctx: Context, company_name: str, text: str, as_json: bool) -> None:
    """Queue TEXT to every person opted in to COMPANY, within its daily cap and quiet hours.

    \b
    Example:
      smsd broadcast "Pizza Place" "Half price tonight only. Reply STOP to opt out."
    """
    limits = ctx.config().limits
    store = ctx.store()
    local_tz = datetime.now().astimezone().tzinfo or UTC
    opted_in = BusinessView(store.directory, company_name).optin_counts()["in"]
    with click.progressbar(length=opted_in, label="queueing", file=sys.stderr) as bar:
        result = store.broadcasts.broadcast(
            company_name,
            text,
            now=datetime.now(UTC),
            default_cap=limits.broadcast_daily_cap,
            quiet=limits.quiet_hours,
            tz=local_tz,
            progress=bar.update,
        )
    summary = {
        "queued": result.queued,
        "skipped_opted_out": result.skipped_opted_out,
        "capped": result.capped,
        "due_at": result.due_at,
    }
    if as_json:
        echo_json(summary)
        return
    click.echo(
        f"queued {result.queued}, skipped opted-out {result.skipped_opted_out},"
        f" capped {result.capped}; due {result.due_at:%Y-%m-%d %H:%M} UTC"
    )
