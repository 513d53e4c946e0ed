"""``smsd code``: the codes (keywords) people text, per business; add, update, remove, list, pause.

Reply texts are checked when saved: an unknown or unclosed placeholder (``{usercode}``,
``{user_code``) is refused with one line naming the field. A removed code is retired, never
deleted: its keyword stays taken so no other business receives texts meant for it.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click

from cli.context import Context, command_edge, pass_ctx
from cli.operator import operator_name
from cli.output import echo_json, echo_table
from cli.render import safe
from smsd.templates import REPLY_FIELDS, check
from store.code_admin import KEEP, Keep

__all__ = ["code"]


@click.group()
def code() -> None:
    """Codes (keywords) that people text: add, update, remove, list, pause.

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
    check("reply", reply, REPLY_FIELDS)
    added = ctx.store().directory.add_code(
        company_name, keyword, reply, description, aliases, starts_at=starts_at, ends_at=ends_at
    )
    click.echo(f"added code {safe(added.keyword)} to '{safe(company_name)}'")


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
    directory = ctx.store(read_only=True).directory
    codes = directory.list_codes(company_name)
    rows = [
        {
            "code": c.keyword,
            "business": c.business_name,
            "business_id": c.business_id,
            "paused": c.paused,
            "description": c.description or "",
        }
        for c in codes
    ]
    if as_json:
        echo_json(rows)
    else:
        echo_table(rows, ["code", "business", "paused", "description"], empty="no codes")


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
    click.echo(f"code {safe(changed.keyword)} {'paused' if changed.paused else 'active'}")


@code.command("update")
@click.argument("keyword", metavar="CODE")
@click.option("--reply", help="New reply text; {user_code}, {business}, {code} are filled in.")
@click.option("--description", help='New description ("" clears it).')
@click.option("--alias", "aliases", multiple=True, help="Replace the aliases with these.")
@click.option("--no-aliases", is_flag=True, help="Remove every alias.")
@click.option("--starts", type=click.DateTime(), help="Active from this date/time (UTC).")
@click.option("--ends", type=click.DateTime(), help="Active until this date/time (UTC).")
@click.option("--no-dates", is_flag=True, help="Clear --starts and --ends.")
@pass_ctx
@command_edge
def code_update(
    ctx: Context, keyword: str, reply: str | None, description: str | None,
    aliases: tuple[str, ...], no_aliases: bool, starts: datetime | None, ends: datetime | None,
    no_dates: bool,
) -> None:  # fmt: skip
    """Change CODE's reply, description, aliases or dates (only the options given).

    \b
    Example:
      smsd code update PIZZA --reply "3-for-2 today, show {user_code}" --alias PIE --alias PIZZAS
    """
    if reply is not None:
        check("reply", reply, REPLY_FIELDS)
    if no_dates and (starts or ends):
        raise click.BadParameter("--no-dates with --starts/--ends", param_hint="--no-dates")
    new_aliases: tuple[str, ...] | Keep = () if no_aliases else (aliases or KEEP)
    starts_at: datetime | Keep | None = None if no_dates else KEEP
    ends_at: datetime | Keep | None = None if no_dates else KEEP
    if starts is not None:
        starts_at = starts.replace(tzinfo=UTC)
    if ends is not None:
        ends_at = ends.replace(tzinfo=UTC)
    store = ctx.store()
    store.code_admin.update(
        keyword,
        reply=KEEP if reply is None else reply,
        description=KEEP if description is None else (description or None),
        aliases=new_aliases,
        starts_at=starts_at,
        ends_at=ends_at,
    )
    changed = store.directory.get_code(keyword)
    click.echo(f"updated code {safe(changed.keyword)}")


@code.command("remove")
@click.argument("keyword", metavar="CODE")
@click.option("--reason", help="Why (kept in the audit trail).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_ctx
@command_edge
def code_remove(ctx: Context, keyword: str, reason: str | None, yes: bool) -> None:
    """Retire CODE for good: it stops answering and its keyword is never given to another business.

    \b
    Example:
      smsd code remove XMAS --reason "campaign over" --yes
    """
    store = ctx.store()
    found = store.directory.get_code(keyword)
    if not yes:
        click.confirm(
            f"Retire {safe(found.keyword)} of {safe(found.business_name)} for good?", abort=True
        )
    with store.transaction():
        store.code_admin.retire(found.keyword, now=datetime.now(UTC), actor=operator_name(),
                                reason=reason)  # fmt: skip
        store.audit.record_audit(operator_name(), "code_remove", found.keyword, reason)
    click.echo(f"retired code {safe(found.keyword)}")
