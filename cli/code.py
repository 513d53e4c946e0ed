"""``smsd code``: the codes (keywords) people text, per business; add, list, pause."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from cli.context import Context, command_edge, pass_ctx
from cli.output import echo_json, echo_table

__all__ = ["code"]


@click.group()
def code() -> None:
    """Codes (keywords) that people text: add, list, pause.

    \b
    Example:
      smsd code add "Pizza Place" PIZZA --reply "2-for-1 today, show {user_code}"
      smsd code list
    """


@code.command("add")
@click.argument("company_name", metavar="COMPANY")
@click.argument("keyword", metavar="CODE")
@click.option(
    "--reply", required=True, help="Reply text; {user_code}, {business} and {code} are filled in."
)
@click.option("--description", help="What the code is for (shown to the operator).")
@click.option("--alias", "aliases", multiple=True, help="Another word for the same code.")
@click.option("--starts", type=click.DateTime(), help="Active from this date/time (UTC).")
@click.option("--ends", type=click.DateTime(), help="Active until this date/time (UTC).")
@pass_ctx
@command_edge
def code_add(
    ctx: Context,
    company_name: str,
    keyword: str,
    reply: str,
    description: str | None,
    aliases: tuple[str, ...],
    starts: datetime | None,
    ends: datetime | None,
) -> None:
    """Add CODE to COMPANY with its reply text; outside --starts/--ends it counts as unknown.

    \b
    Example:
      smsd code add "Pizza Place" PIZZA --reply "2-for-1 today, show {user_code}"
      smsd code add "Pizza Place" XMAS --reply "Free dessert" --starts 2026-12-01 --ends 2026-12-27
    """
    starts_at = None if starts is None else starts.replace(tzinfo=UTC)
    ends_at = None if ends is None else ends.replace(tzinfo=UTC)
    if starts_at and ends_at and ends_at <= starts_at:
        raise click.BadParameter("--ends must be after --starts", param_hint="--ends")
    added = ctx.store().directory.add_code(
        company_name, keyword, reply, description, aliases, starts_at=starts_at, ends_at=ends_at
    )
    click.echo(f"added code {added.keyword} to {company_name!r}")


@code.command("list")
@click.option("--company", "company_name", help="Only this business's codes.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_ctx
@command_edge
def code_list(ctx: Context, company_name: str | None, as_json: bool) -> None:
    """List codes with their business and state.

    \b
    Example:
      smsd code list --company "Pizza Place"
    """
    codes = ctx.store().directory.list_codes(company_name)
    rows = [
        {
            "code": c.keyword,
            "business_id": c.business_id,
            "paused": c.paused,
            "description": c.description or "",
        }
        for c in codes
    ]
    if as_json:
        echo_json(rows)
    else:
        echo_table(rows, ["code", "business_id", "paused", "description"], empty="no codes")


@code.command("pause")
@click.argument("keyword", metavar="CODE")
@click.option("--resume", is_flag=True, help="Resume instead of pausing.")
@pass_ctx
@command_edge
def code_pause(ctx: Context, keyword: str, resume: bool) -> None:
    """Pause CODE (texts to it get the help reply) or resume it with --resume.

    \b
    Example:
      smsd code pause PIZZA
    """
    changed = ctx.store().directory.set_code_paused(keyword, not resume)
    click.echo(f"code {changed.keyword} {'paused' if changed.paused else 'active'}")
