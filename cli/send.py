"""``smsd send``: queue one message to a number; the running daemon sends it.

The daemon notices new rows through ``PRAGMA data_version``, so nothing else is needed here.
A number that opted out is refused unless ``--force`` (audited); texts over ``[outgoing]
max_parts`` are refused. This is the command scripts call in a loop: keep its imports to what
it uses (`tests/test_startup.py` lists what it must not load, `benchmarks/startup.py` times
it): the [gateway] and [outgoing] sections rather than the whole configuration, the part
counter rather than the codec, and the four store parts it touches.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click

from cli.context import Context, command_edge, pass_ctx
from cli.instance import daemon_running
from cli.lookup import e164
from cli.operator import operator_name
from smsd.operator import check_parts, check_recipient

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
    recipient = e164(ctx, number)
    parts = check_parts(text, ctx.source().outgoing().max_parts)
    store = ctx.store(create=True)
    with store.transaction():
        if check_recipient(store, recipient, force=force):
            person = store.directory.find_person(recipient)
            subject = person.user_code if person is not None else "unregistered number"
            store.audit.record_audit(operator_name(), "send_forced", subject, "opted out")
        new_id = store.broadcasts.queue_manual(recipient, text, now=datetime.now(UTC))
    running = daemon_running(ctx.db)  # `smsd run` holds an flock on its database
    if not running:
        click.echo(
            f"Warning: no daemon is running on {ctx.db}: the message waits until one starts",
            err=True,
        )
    if as_json:
        from cli.output import echo_json  # start-up cost: json and the table renderer

        document = {"id": new_id, "recipient": recipient, "parts": parts, "daemon_running": running}
        echo_json(document)
    else:
        click.echo(
            f"queued message {new_id} to {recipient} ({parts} part{'s' if parts > 1 else ''})"
        )
