"""``smsd send``: queue one message to a number; the running daemon sends it.

The daemon notices new rows through ``PRAGMA data_version``, so nothing else is needed here.
This is the command scripts call in a loop: keep its imports to what it uses.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click

from cli.context import Context, command_edge, pass_ctx
from cli.instance import holder_pid
from cli.lookup import e164
from cli.output import echo_json

__all__ = ["send"]


@click.command()
@click.argument("number")
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_ctx
@command_edge
def send(ctx: Context, number: str, text: str, as_json: bool) -> None:
    """Queue TEXT to NUMBER (normalised to E.164); the daemon sends it within a second.

    \b
    Example:
      smsd send "07700 900123" "Your table is ready"
    """
    recipient = e164(ctx, number)
    new_id = ctx.store(create=True).broadcasts.queue_manual(recipient, text, now=datetime.now(UTC))
    running = holder_pid(ctx.db) is not None  # `smsd run` holds an flock on its database
    if not running:
        click.echo(
            f"Warning: no daemon is running on {ctx.db}: the message waits until one starts",
            err=True,
        )
    if as_json:
        echo_json({"id": new_id, "recipient": recipient, "daemon_running": running})
    else:
        click.echo(f"queued message {new_id} to {recipient}")
