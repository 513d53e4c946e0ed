"""``smsd outbox`` and ``smsd outbox retry``: outgoing messages, and requeueing a failed one.

An operator view: it shows phone numbers; business-facing commands never do.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click

from cli.context import Context, command_edge, pass_ctx
from cli.output import echo_json, echo_table

__all__ = ["outbox"]

_STATES = ("queued", "sending", "sent", "delivered", "failed")


@click.group(invoke_without_command=True)
@click.option("--state", type=click.Choice(_STATES), help="Only messages in this state.")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_ctx
def outbox(ctx: Context, state: str | None, limit: int, as_json: bool) -> None:
    """Outgoing messages, newest first; `outbox retry ID` requeues a failed one.

    \b
    Example:
      smsd outbox --state failed
      smsd outbox retry 42
    """
    if click.get_current_context().invoked_subcommand is None:
        _list(ctx, state, limit, as_json)


@command_edge
def _list(ctx: Context, state: str | None, limit: int, as_json: bool) -> None:
    rows = [
        {"id": m.id, "created_at": m.created_at, "recipient": m.recipient, "kind": m.kind,
         "state": m.state, "attempts": m.attempts, "next_attempt_at": m.next_attempt_at,
         "error": m.error, "text": m.text}
        for m in ctx.store(read_only=True).outbox.list(state, limit=limit)
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
