"""``smsd token``: API bearer tokens (create shows the token once; list; revoke)."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from cli.context import Context, command_edge, pass_ctx
from cli.output import echo_json, echo_table

__all__ = ["token"]


@click.group()
def token() -> None:
    """API tokens: a business's (read or write) or the operator's.

    \b
    Example:
      smsd token create "Pizza Place" --scope write
    """


@token.command("create")
@click.argument("company", required=False)
@click.option(
    "--scope",
    type=click.Choice(["read", "write"]),
    default="read",
    show_default=True,
    help="read: history, codes, stats, opt-ins, invoices; write: also queue broadcasts.",
)
@click.option("--operator", is_flag=True, help="The operator's token (send, modems, anything).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_ctx
@command_edge
def create(ctx: Context, company: str | None, scope: str, operator: bool, as_json: bool) -> None:
    """Create a token for COMPANY (or --operator) and print it once; only its hash is kept.

    \b
    Example:
      smsd token create "Pizza Place" --scope read
      smsd token create --operator
    """
    from store.errors import InvalidInput
    from store.tokens import Scope

    if operator == (company is not None):
        raise InvalidInput("give either COMPANY or --operator")
    chosen: Scope = "operator" if operator else ("write" if scope == "write" else "read")
    made, secret = ctx.store().tokens.create(company, chosen, now=datetime.now(UTC))
    if as_json:
        echo_json({"id": made.id, "scope": made.scope, "business": made.business, "token": secret})
        return
    click.echo(secret)
    click.echo(
        f"token {made.id} ({made.scope}{' for ' + made.business if made.business else ''}):"
        " shown once, store it now",
        err=True,
    )


@token.command("list")
@click.option("--company", help="Only this business's tokens.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_ctx
@command_edge
def list_(ctx: Context, company: str | None, as_json: bool) -> None:
    """Tokens with scope, business, prefix, creation, last use and revocation (never secrets).

    \b
    Example:
      smsd token list --company "Pizza Place"
    """

    found = [
        {"id": t.id, "scope": t.scope, "business": t.business or "(operator)",
         "prefix": t.prefix + "…", "created_at": t.created_at, "last_used_at": t.last_used_at,
         "revoked_at": t.revoked_at}
        for t in ctx.store().tokens.list(company)
    ]  # fmt: skip
    if as_json:
        echo_json(found)
        return
    columns = ["id", "scope", "business", "prefix", "created_at", "last_used_at", "revoked_at"]
    echo_table(found, columns, empty="no tokens")


@token.command("revoke")
@click.argument("token_id", type=int)
@pass_ctx
@command_edge
def revoke(ctx: Context, token_id: int) -> None:
    """Revoke token TOKEN_ID at once.

    \b
    Example:
      smsd token revoke 3
    """

    ctx.store().tokens.revoke(token_id, now=datetime.now(UTC))
    click.echo(f"revoked token {token_id}")
