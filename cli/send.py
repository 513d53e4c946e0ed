"""``smsd send``: queue one message to a number; the running daemon sends it.

The work and its output lines are `cli.queueing`'s, shared with the quick path
(`cli.quicksend`) that runs a plain ``smsd send NUMBER TEXT`` without importing Click. This is
the command scripts call in a loop: keep its imports to what it uses (`tests/test_startup.py`
lists what it must not load, `benchmarks/startup.py` times it).
"""

from __future__ import annotations

import click

from cli.context import Context, command_edge, pass_ctx
from cli.lookup import e164
from cli.queueing import queue_message, queued_line, warning_line

__all__ = ["send"]


@click.command()
@click.argument("number")
@click.argument("text")
@click.option("--force", is_flag=True, help="Send even though the number opted out (audited).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_ctx
@command_edge
def send(ctx: Context, number: str, text: str, force: bool, as_json: bool) -> None:
    """Queue TEXT to NUMBER (normalised to E.164); the daemon sends it within a second.

    \b
    Example:
      smsd send "07700 900123" "Your table is ready"
    """
    queued = queue_message(ctx, e164(ctx, number), text, force=force)
    warning = warning_line(ctx.db)
    if warning is not None:
        click.echo(warning, err=True)
    if as_json:
        from cli.output import echo_json  # start-up cost: json and the table renderer

        running = warning is None
        echo_json({"id": queued.id, "recipient": queued.recipient, "parts": queued.parts,
                   "daemon_running": running})  # fmt: skip
    else:
        click.echo(queued_line(queued))
