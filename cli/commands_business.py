"""``smsd company``, ``smsd code`` and ``smsd history``: businesses, their codes, their callers."""

from __future__ import annotations

from datetime import datetime

import click

from cli.main import Context, command_edge, pass_ctx
from cli.output import echo_json, echo_table

__all__ = ["register"]


@click.group()
def company() -> None:
    """Businesses: add and list them."""


@company.command("add")
@click.argument("name")
@click.option("--daily-cap", type=click.IntRange(min=0), help="Broadcast messages per day.")
@pass_ctx
@command_edge
def company_add(ctx: Context, name: str, daily_cap: int | None) -> None:
    """Add a business called NAME.

    \b
    Example:
      smsd company add "Pizza Place"
    """
    business = ctx.store().add_business(name, daily_cap=daily_cap)
    click.echo(f"added business {business.name!r} (id {business.id})")


@company.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_ctx
@command_edge
def company_list(ctx: Context, as_json: bool) -> None:
    """List the businesses.

    \b
    Example:
      smsd company list --json
    """
    businesses = ctx.store().list_businesses()
    rows = [{"id": b.id, "name": b.name} for b in businesses]
    if as_json:
        echo_json(rows)
    else:
        echo_table(rows, ["id", "name"], empty="no businesses yet")


@click.group()
def code() -> None:
    """Codes (keywords) that people text: add, list, pause."""


@code.command("add")
@click.argument("company_name", metavar="COMPANY")
@click.argument("keyword", metavar="CODE")
@click.option(
    "--reply", required=True, help="Reply text; {user_code}, {business} and {code} are filled in."
)
@click.option("--description", help="What the code is for (shown to the operator).")
@click.option("--alias", "aliases", multiple=True, help="Another word for the same code.")
@pass_ctx
@command_edge
def code_add(
    ctx: Context,
    company_name: str,
    keyword: str,
    reply: str,
    description: str | None,
    aliases: tuple[str, ...],
) -> None:
    """Add CODE to COMPANY with its reply text.

    \b
    Example:
      smsd code add "Pizza Place" PIZZA --reply "2-for-1 today, show {user_code}"
    """
    added = ctx.store().add_code(company_name, keyword, reply, description, aliases)
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
    codes = ctx.store().list_codes(company_name)
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
    changed = ctx.store().set_code_paused(keyword, not resume)
    click.echo(f"code {changed.keyword} {'paused' if changed.paused else 'active'}")


@click.command()
@click.argument("company_name", metavar="COMPANY")
@click.option("--code", "keyword", help="Only requests for this code.")
@click.option("--since", type=click.DateTime(), help="From this date/time (UTC).")
@click.option("--until", type=click.DateTime(), help="Before this date/time (UTC).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_ctx
@command_edge
def history(
    ctx: Context,
    company_name: str,
    keyword: str | None,
    since: datetime | None,
    until: datetime | None,
    as_json: bool,
) -> None:
    """A business's callers by user code: code and time. Never a phone number.

    \b
    Example:
      smsd history "Pizza Place" --code PIZZA --since 2026-11-01
    """
    from datetime import UTC

    def utc(value: datetime | None) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)

    rows = ctx.store().history(company_name, keyword, utc(since), utc(until))
    records = [{"user_code": r.user_code, "code": r.keyword, "at": r.at} for r in rows]
    if as_json:
        echo_json(records)
    else:
        echo_table(records, ["user_code", "code", "at"], empty="no requests yet")


def register(group: click.Group) -> None:
    """Add ``company``, ``code`` and ``history`` to the top-level group."""
    group.add_command(company)
    group.add_command(code)
    group.add_command(history)
