"""``smsd user``: register, update, show, erase people, and check a password.

Passwords never come from argv (see `cli.prompts`). Every command that reveals or changes a
person's data writes an audit record.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from cli.context import Context, command_edge, pass_ctx
from cli.lookup import e164, resolve_who
from cli.operator import operator_name
from cli.output import echo_fields, echo_json, echo_table
from cli.prompts import ask_password, read_password
from store.accounts import already_registered
from store.errors import Conflict

__all__ = ["user"]

F = TypeVar("F", bound=Callable[..., object])


def _profile_options(func: F) -> F:
    options = [
        click.option("--first-name"),
        click.option("--surname"),
        click.option("--email"),
        click.option("--postal-code"),
        click.option("--imei", help="15 digits, Luhn-checked."),
        click.option("--age-band", help="16-, 17-20, 21-25, 26-30, 31-40, 41-50 or 51+."),
        click.option("--country", help="ISO 3166 alpha-2, e.g. GB."),
        click.option("--gender", help="female, male, non-binary, other or undisclosed."),
        click.option("--password-stdin", is_flag=True, help="Read the password from stdin."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


_FIELDS = ("first_name", "surname", "email", "postal_code", "imei", "age_band", "country", "gender")


@click.group()
def user() -> None:
    """People: register, update, show, erase; check a password.

    \b
    Example:
      smsd user show +447700900123
      smsd user erase K7M2QX --reason "asked by email" --yes
    """


@user.command("register")
@click.argument("phone")
@click.option("--code", "user_code", required=True, help="The user code texted to PHONE.")
@_profile_options
@pass_ctx
@command_edge
def user_register(
    ctx: Context, /, phone: str, user_code: str, password_stdin: bool, **fields: str | None
) -> None:
    """Register the person texting from PHONE, proven by the user code they were sent.

    Asks for a password (twice, hidden) unless --password-stdin is given.

    \b
    Example:
      smsd user register +447700900123 --code K7M2QX --first-name Ann --surname Lee \\
          --email ann@example.com --postal-code "SW1A 1AA"
    """
    number = e164(ctx, phone)
    store = ctx.store()
    # An unknown code, or a registered person, fails before the password prompt.
    if store.accounts.person_profile(user_code).registered_at is not None:
        raise Conflict(already_registered(user_code.strip().upper()))
    password = read_password(password_stdin, prompt=True)
    profile = store.accounts.register_person(
        number, user_code, fields, password=password, actor=operator_name()
    )
    click.echo(f"registered {profile.user_code}")


@user.command("update")
@click.argument("user_code", metavar="USERCODE")
@_profile_options
@click.option("--password", "ask_password", is_flag=True, help="Prompt for a new password.")
@click.option("--reason", help="Why (kept in the audit trail).")
@pass_ctx
@command_edge
def user_update(
    ctx: Context,
    /,
    user_code: str,
    password_stdin: bool,
    ask_password: bool,
    reason: str | None,
    **fields: str | None,
) -> None:
    """Change a person's profile fields ("" clears one) and/or password.

    \b
    Example:
      smsd user update K7M2QX --email ann@example.org --age-band 31-40
    """
    changes = {k: v for k, v in fields.items() if v is not None}
    password = read_password(password_stdin, ask_password)
    profile = ctx.store().accounts.update_person(
        user_code, changes, password=password, actor=operator_name(), reason=reason
    )
    click.echo(f"updated {profile.user_code}")


@user.command("login-check")
@click.argument("user_code", metavar="USERCODE")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@pass_ctx
@command_edge
def user_login_check(ctx: Context, user_code: str, password_stdin: bool) -> None:
    """Check a person's password (exit 0 if right, 1 if wrong).

    \b
    Example:
      printf '%s\\n' "$PW" | smsd user login-check K7M2QX --password-stdin
    """
    password = ask_password(password_stdin)
    if not ctx.store().accounts.check_person_password(user_code, password):
        click.echo("Error: wrong user code or password", err=True)
        sys.exit(1)
    click.echo("password ok")


@user.command("show")
@click.argument("who", metavar="PHONE|USERCODE")
@click.option("--all", "show_all", is_flag=True, help="Everything stored about them.")
@click.option("--reason", help="Why you look (kept in the audit trail).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_ctx
@command_edge
def user_show(ctx: Context, who: str, show_all: bool, reason: str | None, as_json: bool) -> None:
    """A person's own history: businesses, codes, hour and weekday pattern (audited).

    \b
    Example:
      smsd user show +447700900123 --all --json
    """
    store = ctx.store()
    person = resolve_who(ctx, store, who)
    with store.transaction():
        action = "user_show_all" if show_all else "user_show"
        store.audit.record_audit(operator_name(), action, person.user_code, reason)
        document = (
            store.stats.person_dossier(person.user_code)
            if show_all
            else {"summary": store.stats.person_summary(person.user_code)}
        )
    if as_json:
        echo_json(document)
        return
    _print_person(document)


def _print_person(document: dict[str, Any]) -> None:
    summary = document["summary"]
    if "profile" in document:
        profile = document["profile"]
        click.echo("profile:")
        keys = ("user_code", "phone", *_FIELDS, "password_set", "registered_at", "erased_at")
        echo_fields({key: getattr(profile, key) for key in keys}, indent="  ")
    click.echo(f"user code {summary.user_code}")
    click.echo("businesses:")
    echo_table(
        list(summary.businesses), ["business", "status", "first_in", "last_change"], "  none"
    )
    click.echo("codes:")
    echo_table(list(summary.codes), ["code", "business", "requests", "first", "last"], "  none")
    click.echo("hours (UTC): " + ", ".join(f"{h}h={n}" for h, n in summary.hours.items()))
    click.echo("weekdays: " + ", ".join(f"{d}={n}" for d, n in summary.weekdays.items()))
    if "incoming" in document:
        click.echo(f"incoming texts: {len(document['incoming'])}")
        echo_table(document["incoming"], ["id", "received_at", "state", "text"])
        click.echo(f"outgoing texts: {len(document['outgoing'])}")
        echo_table(document["outgoing"], ["id", "created_at", "kind", "state", "text"])


@user.command("erase")
@click.argument("user_code", metavar="USERCODE")
@click.option("--reason", required=True, help="Why (kept in the audit trail).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_ctx
@command_edge
def user_erase(ctx: Context, user_code: str, reason: str, yes: bool) -> None:
    """Erase a person: profile and number removed everywhere; history kept under the code.

    \b
    Example:
      smsd user erase K7M2QX --reason "request by email 2026-11-03" --yes
    """
    if not yes:
        click.confirm(f"Erase {user_code.upper()} for good?", abort=True)
    person = ctx.store().accounts.erase_everywhere(user_code, actor=operator_name(), reason=reason)
    click.echo(f"erased {person.user_code}; its history stays under that code")
