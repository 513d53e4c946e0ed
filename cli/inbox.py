"""``smsd inbox``: incoming messages, newest first (an operator view: shows phone numbers)."""

from __future__ import annotations

import click

from cli.context import Context, command_edge, pass_ctx
from cli.output import echo_json, echo_table

__all__ = ["inbox"]


@click.command()
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_ctx
@command_edge
def inbox(ctx: Context, limit: int, as_json: bool) -> None:
    """Incoming messages, newest first.

    \b
    Example:
      smsd inbox --json
    """
    rows = [
        {"id": m.id, "received_at": m.received_at, "sender": m.sender, "state": m.state,
         "text": m.text, "error": m.error}
        for m in ctx.store(read_only=True).inbox.list(limit=limit)
    ]  # fmt: skip
    if as_json:
        echo_json(rows)
    else:
        echo_table(rows, ["id", "received_at", "sender", "state", "text"], "inbox empty")
