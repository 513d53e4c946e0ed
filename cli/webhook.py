"""``smsd webhook``: add (prints the signing secret once), list, remove, retry."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from cli.context import Context, command_edge, pass_ctx
from cli.output import echo_json, echo_table

__all__ = ["webhook"]


@click.group()
def webhook() -> None:
    """Signed webhooks (Standard Webhooks) for a business's events or the operator's.

    \b
    Example:
      smsd webhook add "Pizza Place" https://till.example/sms
    """


@webhook.command("add")
@click.argument("args", nargs=-1, required=True, metavar="[COMPANY] URL")
@click.option("--operator", is_flag=True, help="The operator's events (message.*, modem.*).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_ctx
@command_edge
def add(ctx: Context, args: tuple[str, ...], operator: bool, as_json: bool) -> None:
    """Send COMPANY's events (or, with --operator, the operator's) to URL; prints the secret.

    \b
    Example:
      smsd webhook add "Pizza Place" https://till.example/sms
      smsd webhook add --operator https://ops.example/hook
    """
    from store.errors import InvalidInput

    if len(args) != (1 if operator else 2):
        raise InvalidInput("give COMPANY URL, or --operator URL")
    company = None if operator else args[0]
    hook, secret = ctx.store().webhooks.add(company, args[-1], now=datetime.now(UTC))
    if as_json:
        echo_json({"id": hook.id, "business": hook.business, "url": hook.url, "secret": secret})
        return
    click.echo(secret)
    click.echo(f"webhook {hook.id}: signing secret shown once, store it now", err=True)


@webhook.command("list")
@click.option("--company", help="Only this business's webhooks.")
@click.option("--removed", is_flag=True, help="Include removed webhooks.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_ctx
@command_edge
def list_(ctx: Context, company: str | None, removed: bool, as_json: bool) -> None:
    """Webhooks with their deliveries pending, delivered and failed (parked).

    \b
    Example:
      smsd webhook list --json
    """

    found = [
        {"id": h.id, "business": h.business or "(operator)", "url": h.url,
         "pending": h.pending, "delivered": h.delivered, "failed": h.failed,
         "created_at": h.created_at, "removed_at": h.removed_at}
        for h in ctx.store().webhooks.list(company, removed=removed)
    ]  # fmt: skip
    if as_json:
        echo_json(found)
        return
    echo_table(found, ["id", "business", "url", "pending", "delivered", "failed"], "no webhooks")


@webhook.command("remove")
@click.argument("webhook_id", type=int)
@pass_ctx
@command_edge
def remove(ctx: Context, webhook_id: int) -> None:
    """Stop delivering to webhook WEBHOOK_ID (its history stays).

    \b
    Example:
      smsd webhook remove 2
    """

    ctx.store().webhooks.remove(webhook_id, now=datetime.now(UTC))
    click.echo(f"removed webhook {webhook_id}")


@webhook.command("retry")
@click.argument("webhook_id", type=int)
@pass_ctx
@command_edge
def retry(ctx: Context, webhook_id: int) -> None:
    """Queue WEBHOOK_ID's failed (parked) deliveries again, with a fresh 24 h window.

    \b
    Example:
      smsd webhook retry 2
    """

    count = ctx.store().webhooks.retry(webhook_id, now=datetime.now(UTC))
    click.echo(f"queued {count} deliveries again")
