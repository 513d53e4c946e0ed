"""``smsd inbox``, ``smsd outbox`` (and ``outbox retry``), ``smsd send``: operator views.

These are operator views and show phone numbers; business-facing commands never do.
A queued message is picked up by the running daemon, which watches ``PRAGMA data_version``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click

from cli.main import Context, command_edge, pass_ctx
from cli.output import echo_json, echo_table

__all__ = ["register"]

_STATES = ("queued", "sending", "sent", "delivered", "failed")


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
        for m in ctx.store().inbox.list(limit=limit)
    ]  # fmt: skip
    if as_json:
        echo_json(rows)
    else:
        echo_table(rows, ["id", "received_at", "sender", "state", "text"], "inbox empty")


@click.group(invoke_without_command=True)
@click.option("--state", type=click.Choice(_STATES), help="Only messages in this state.")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def outbox(click_ctx: click.Context, state: str | None, limit: int, as_json: bool) -> None:
    """Outgoing messages, newest first; `outbox retry ID` requeues a failed one.

    \b
    Example:
      smsd outbox --state failed
      smsd outbox retry 42
    """
    if click_ctx.invoked_subcommand is None:
        _list(click_ctx.find_object(Context), state, limit, as_json)


@command_edge
def _list(ctx: Context, state: str | None, limit: int, as_json: bool) -> None:
    rows = [
        {"id": m.id, "created_at": m.created_at, "recipient": m.recipient, "kind": m.kind,
         "state": m.state, "attempts": m.attempts, "next_attempt_at": m.next_attempt_at,
         "error": m.error, "text": m.text}
        for m in ctx.store().outbox.list(state, limit=limit)
    ]  # fmt: skip
    if as_json:
        echo_json(rows)
    else:
        columns = ["id", "created_at", "recipient", "kind", "state", "attempts", "error"]
        echo_table(rows, columns, "outbox empty")


@outbox.command("retry")
@click.argument("outgoing_id", metavar="ID", type=int)
@pass_ctx
@command_edge
def outbox_retry(ctx: Context, outgoing_id: int) -> None:
    """Put failed message ID back in the queue, due now.

    \b
    Example:
      smsd outbox retry 42
    """
    ctx.store().broadcasts.retry_failed(outgoing_id, now=datetime.now(UTC))
    click.echo(f"message {outgoing_id} queued again")


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
    from smsd.numbers import InvalidNumber, to_e164
    from store.errors import InvalidInput

    try:
        e164 = to_e164(number, ctx.config().gateway.default_region)
    except InvalidNumber as exc:
        raise InvalidInput(str(exc)) from exc
    new_id = ctx.store().broadcasts.queue_manual(e164, text, now=datetime.now(UTC))
    click.echo(f"queued message {new_id} to {e164}")


def register(group: click.Group) -> None:
    """Add ``inbox``, ``outbox`` and ``send`` to the top-level group."""
    group.add_command(inbox)
    group.add_command(outbox)
    group.add_command(send)
