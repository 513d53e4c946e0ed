"""``smsd send``: queue one message to a number; the running daemon sends it.

The daemon notices new rows through ``PRAGMA data_version``, so nothing else is needed here.
This is the command scripts call in a loop: keep its imports to what it uses.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click

from cli.context import Context, command_edge, pass_ctx
from cli.lookup import e164

__all__ = ["send"]


@click.command()
@click.argument("number")
@click.argument("text")
@pass_ctx
@command_edge
def send(ctx: Context, number: str, text: str) -> None:
    """Queue TEXT to NUMBER (normalised to E.164); the daemon sends it within a second.

    \b
    Example:
      smsd send "07700 900123" "Your table is ready"
    """
    recipient = e164(ctx, number)
    new_id = ctx.store().broadcasts.queue_manual(recipient, text, now=datetime.now(UTC))
    click.echo(f"queued message {new_id} to {recipient}")
