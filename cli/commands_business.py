"""``smsd company``, ``smsd code`` and ``smsd history``: businesses, their codes, their callers."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import UTC, datetime
from typing import Any

import click

from cli.main import Context, command_edge, pass_ctx
from cli.output import echo_json, echo_table, to_jsonable

__all__ = ["register"]

_PROGRESS_FROM = 1000  # rows: smaller exports finish before a bar would help


@click.group()
def company() -> None:
    """Businesses: add, update, show and list them.

    \b
    Example:
      smsd company add "Pizza Place" --sector restaurants
      smsd company show "Pizza Place"
    """


@company.command("add")
@click.argument("name")
@click.option("--daily-cap", type=click.IntRange(min=0), help="Broadcast messages per day.")
@click.option("--first-name", help="Contact's first name.")
@click.option("--surname", help="Contact's surname.")
@click.option("--email", help="Contact's email address.")
@click.option("--sector", help="Market sector, e.g. restaurants.")
@click.option("--password-stdin", is_flag=True, help="Read the account password from stdin.")
@click.option("--password", "ask_password", is_flag=True, help="Prompt for a password.")
@pass_ctx
@command_edge
def company_add(
    ctx: Context,
    name: str,
    daily_cap: int | None,
    password_stdin: bool,
    ask_password: bool,
    **fields: str | None,
) -> None:
    """Add a business called NAME, with its contact details (one transaction).

    \b
    Example:
      smsd company add "Pizza Place" --first-name Bo --surname Chan --email bo@pizza.example \\
          --sector restaurants --password-stdin < pw.txt
    """
    from cli.commands_people import read_password

    password = read_password(password_stdin, ask_password)
    store = ctx.store()
    changes = {k: v for k, v in fields.items() if v is not None}
    with store.transaction():
        business = store.directory.add_business(name, daily_cap=daily_cap)
        if changes or password is not None:
            store.accounts.update_business(business.id, changes, password=password)
    click.echo(f"added business {business.name!r} (id {business.id})")


@company.command("update")
@click.argument("name")
@click.option("--daily-cap", type=click.IntRange(min=0), help="Broadcast messages per day.")
@click.option("--first-name", help="Contact's first name.")
@click.option("--surname", help="Contact's surname.")
@click.option("--email", help="Contact's email address.")
@click.option("--sector", help="Market sector.")
@click.option("--password-stdin", is_flag=True, help="Read a new password from stdin.")
@click.option("--password", "ask_password", is_flag=True, help="Prompt for a new password.")
@click.option(
    "--modem",
    "modem_name",
    help='Send this business\'s messages through this [[modems]] name while it is up ("" clears).',
)
@pass_ctx
@command_edge
def company_update(
    ctx: Context,
    name: str,
    daily_cap: int | None,
    password_stdin: bool,
    ask_password: bool,
    modem_name: str | None,
    **fields: str | None,
) -> None:
    """Change a business's contact details, sector, daily cap, password or preferred modem.

    \b
    Example:
      smsd company update "Pizza Place" --email orders@pizza.example --daily-cap 500
      smsd company update "Pizza Place" --modem modem1
    """
    from cli.commands_people import read_password

    password = read_password(password_stdin, ask_password)
    changes = {k: v for k, v in fields.items() if v is not None}
    store = ctx.store()
    with store.transaction():
        profile = store.accounts.update_business(
            name, changes, password=password, daily_cap=daily_cap
        )
        if modem_name is not None:
            store.modems.set_business_modem(name, modem_name.strip() or None)
    click.echo(f"updated business {profile.name!r}")


@company.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_ctx
@command_edge
def company_show(ctx: Context, name: str, as_json: bool) -> None:
    """A business: its details, codes with requests and requesters, people opted in.

    \b
    Example:
      smsd company show "Pizza Place" --json
    """
    from store.business_view import BusinessView

    store = ctx.store()
    profile = store.accounts.business_profile(name)
    view = BusinessView(store.directory, profile.id)
    codes = [
        {"code": c.keyword, "paused": c.paused, "requests": c.requests, "people": c.people}
        for c in view.code_counts()
    ]
    optins = view.optin_counts()
    document = {
        "business": to_jsonable(profile),
        "codes": codes,
        "opted_in": optins["in"],
        "opted_out": optins["out"],
    }
    if as_json:
        echo_json(document)
        return
    for key in ("name", "first_name", "surname", "email", "sector", "daily_cap", "created_at"):
        value = document["business"][key]
        click.echo(f"{key}: {'' if value is None else value}")
    click.echo(f"opted in: {optins['in']}  opted out: {optins['out']}")
    echo_table(codes, ["code", "paused", "requests", "people"], empty="no codes")


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
    businesses = ctx.store().directory.list_businesses()
    rows = [{"id": b.id, "name": b.name} for b in businesses]
    if as_json:
        echo_json(rows)
    else:
        echo_table(rows, ["id", "name"], empty="no businesses yet")


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


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=UTC)


def _filters(func: Any) -> Any:
    for option in reversed(
        [
            click.option("--code", "keyword", help="Only requests for this code."),
            click.option("--since", type=click.DateTime(), help="From this date/time (UTC)."),
            click.option("--until", type=click.DateTime(), help="Before this date/time (UTC)."),
        ]
    ):
        func = option(func)
    return func


@click.command()
@click.argument("company_name", metavar="COMPANY")
@_filters
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Show only the latest N requests.",
)
@click.option("--all", "show_all", is_flag=True, help="Show every request (ignores --limit).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_ctx
@command_edge
def history(
    ctx: Context,
    company_name: str,
    keyword: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    show_all: bool,
    as_json: bool,
) -> None:
    """A business's callers by user code: code and time (latest page). Never a phone number.

    \b
    Example:
      smsd history "Pizza Place" --code PIZZA --since 2026-11-01
      smsd history "Pizza Place" --limit 20
    """
    from store.business_view import BusinessView

    view = BusinessView(ctx.store().directory, company_name)
    args = (keyword, _utc(since), _utc(until))
    if show_all:
        rows = view.history(*args)
    else:
        page = view.page(*args, limit=limit)
        rows = list(page.rows)
        if page.before is not None:
            click.echo(f"showing the latest {limit}; --all for every request", err=True)
    records = [{"user_code": r.user_code, "code": r.keyword, "at": r.at} for r in rows]
    if as_json:
        echo_json(records)
    else:
        echo_table(records, ["user_code", "code", "at"], empty="no requests yet")


@click.command()
@click.argument("company_name", metavar="COMPANY")
@_filters
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json"]),
    default="csv",
    show_default=True,
    help="Output format.",
)
@click.option("--output", type=click.Path(dir_okay=False), help="Write to FILE (0600).")
@pass_ctx
@command_edge
def export(
    ctx: Context,
    company_name: str,
    keyword: str | None,
    since: datetime | None,
    until: datetime | None,
    fmt: str,
    output: str | None,
) -> None:
    """Export a business's history (user code, code, time) as CSV or JSON; audited.

    \b
    Example:
      smsd export "Pizza Place" --format csv --output pizza.csv
    """
    from cli.commands_privacy import operator_name, write_private
    from store.business_view import BusinessView

    store = ctx.store()
    view = BusinessView(store.directory, company_name)
    args = (keyword, _utc(since), _utc(until))
    total = view.count_history(*args)
    rows: list[dict[str, Any]] = []
    show_bar = total >= _PROGRESS_FROM and output is not None
    with click.progressbar(
        view.iter_history(*args), length=total, label="exporting", file=sys.stderr,
        hidden=not show_bar,
    ) as bar:  # fmt: skip
        rows = [{"user_code": r.user_code, "code": r.keyword, "at": r.at.isoformat()} for r in bar]
    store.audit.record_audit(operator_name(), "export", view.business.name, f"{fmt}, {total} rows")
    if fmt == "json":
        text = json.dumps(rows, indent=2, sort_keys=True) + "\n"
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, ["user_code", "code", "at"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        text = buffer.getvalue()
    if output is None:
        click.echo(text, nl=False)
    else:
        write_private(output, text)
        click.echo(f"exported {total} rows to {output}", err=True)


def register(group: click.Group) -> None:
    """Add ``company``, ``code``, ``history`` and ``export`` to the top-level group."""
    group.add_command(company)
    group.add_command(code)
    group.add_command(history)
    group.add_command(export)
