"""``smsd company``: businesses, with their contact details, codes and opt-in counts."""

from __future__ import annotations

import click

from cli.context import Context, command_edge, pass_ctx
from cli.output import echo_fields, echo_json, echo_table, to_jsonable
from cli.prompts import read_password
from cli.render import safe
from store.business_view import BusinessView
from store.errors import Conflict, InvalidInput, NotFound
from store.store import Store

__all__ = ["company"]


@click.group()
def company() -> None:
    """Businesses: add, update, show, list and approve them.

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
    /,
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
    password = read_password(password_stdin, ask_password)
    store = ctx.store(create=True)
    changes = {k: v for k, v in fields.items() if v is not None}
    with store.transaction():
        if _exists(store, name):
            raise Conflict(f"business '{name.strip()}' already exists (use company update)")
        business = store.directory.add_business(name, daily_cap=daily_cap)
        if changes or password is not None:
            store.accounts.update_business(business.id, changes, password=password)
    click.echo(f"added business '{safe(business.name)}' (id {business.id})")


def _exists(store: Store, name: str) -> bool:
    try:
        store.directory.get_business(name.strip())
    except NotFound:
        return False
    return True


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
@click.option(
    "--double-opt-in/--single-opt-in",
    "double_opt_in",
    default=None,
    help="A first code text is answered 'reply YES to confirm'; only YES opts in.",
)
@click.option(
    "--frequency", help='Stated message frequency, e.g. "Up to 4 msgs/month" ("" resets).'
)
@pass_ctx
@command_edge
def company_update(
    ctx: Context,
    /,
    name: str,
    daily_cap: int | None,
    password_stdin: bool,
    ask_password: bool,
    modem_name: str | None,
    double_opt_in: bool | None,
    frequency: str | None,
    **fields: str | None,
) -> None:
    """Change a business's details, daily cap, password, preferred modem or consent policy.

    \b
    Example:
      smsd company update "Pizza Place" --email orders@pizza.example --daily-cap 500
      smsd company update "Pizza Place" --modem modem1
      smsd company update "Pizza Place" --double-opt-in --frequency "Up to 4 msgs/month"
    """
    changes = {k: v for k, v in fields.items() if v is not None}
    others = (daily_cap, modem_name, double_opt_in, frequency)
    if not changes and all(v is None for v in others) and not (password_stdin or ask_password):
        raise InvalidInput("nothing to change: give at least one option (see --help)")
    password = read_password(password_stdin, ask_password)
    store = ctx.store()
    if modem_name:
        _check_modem_name(ctx, store, modem_name.strip())
    with store.transaction():
        profile = store.accounts.update_business(
            name, changes, password=password, daily_cap=daily_cap
        )
        if modem_name is not None:
            store.modems.set_business_modem(name, modem_name.strip() or None)
        if double_opt_in is not None or frequency is not None:
            store.consent.set_policy(
                profile.id, double_opt_in=double_opt_in,
                frequency=None if frequency is None else frequency.strip(),
            )  # fmt: skip
    click.echo(f"updated business '{safe(profile.name)}'")


def _check_modem_name(ctx: Context, store: Store, name: str) -> None:
    """`name` must be a configured [[modems]] name or one the daemon has reported on."""
    known = {m.name for m in ctx.config().modem_settings()}
    known |= {str(s["name"]) for s in store.modems.modem_statuses()}
    if name not in known:
        listed = ", ".join(sorted(known)) or "none configured or seen"
        raise InvalidInput(f"no modem named '{name}' (known: {listed})")


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
    store = ctx.store(read_only=True)
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
    keys = ("name", "first_name", "surname", "email", "sector", "daily_cap", "created_at")
    echo_fields({key: document["business"][key] for key in keys})
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
    businesses = ctx.store(read_only=True).directory.list_businesses()
    rows = [{"id": b.id, "name": b.name} for b in businesses]
    if as_json:
        echo_json(rows)
    else:
        echo_table(rows, ["id", "name"], empty="no businesses yet")


@company.command("approve")
@click.argument("name")
@pass_ctx
@command_edge
def company_approve(ctx: Context, name: str) -> None:
    """Make a business that signed up on the web portal live.

    \b
    Example:
      smsd company approve "Pizza Place"
    """
    changed = ctx.store().web.approve(name)
    click.echo(f"approved {safe(name)}" if changed else f"{safe(name)} was already live")
