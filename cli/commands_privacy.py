"""``smsd disclose``, ``smsd audit`` and ``smsd backup``: the operator's privacy duties.

`operator_name()` is who the audit trail records: ``$SUDO_USER`` (the human behind sudo),
else ``$USER``, else the login name.
"""

from __future__ import annotations

import getpass
import json
import os
from pathlib import Path

import click

from cli.main import Context, command_edge, pass_ctx
from cli.output import echo_json, echo_table, to_jsonable

__all__ = ["operator_name", "register", "write_private"]


def operator_name() -> str:
    """The human operator for the audit trail."""
    for var in ("SUDO_USER", "USER"):
        if os.environ.get(var):
            return os.environ[var]
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no passwd entry (containers)
        return f"uid:{os.getuid()}"


def write_private(path: str, text: str) -> None:
    """Write `text` to a new or truncated file readable by its owner only (0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


@click.command()
@click.argument("who", metavar="PHONE|USERCODE")
@click.option("--reason", required=True, help="Why the data is disclosed (audited).")
@click.option("--output", type=click.Path(dir_okay=False), help="Write to FILE (0600).")
@pass_ctx
@command_edge
def disclose(ctx: Context, who: str, reason: str, output: str | None) -> None:
    """Export everything held on a person as JSON (a subject access request), audited.

    \b
    Example:
      smsd disclose +447700900123 --reason "SAR ticket 4711" --output sar-4711.json
    """
    from cli.commands_people import resolve_who

    store = ctx.store()
    person = resolve_who(ctx, store, who)
    with store.transaction():
        store.audit.record_audit(operator_name(), "disclose", person.user_code, reason)
        dossier = store.stats.person_dossier(person.user_code)
    text = json.dumps(to_jsonable(dossier), indent=2, sort_keys=True, ensure_ascii=False)
    if output is None:
        click.echo(text)
    else:
        write_private(output, text + "\n")
        click.echo(f"wrote everything held on {person.user_code} to {output}", err=True)


@click.command()
@click.option("--subject", help="Only records about this user code or business.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_ctx
@command_edge
def audit(ctx: Context, subject: str | None, as_json: bool) -> None:
    """List the audit trail: who read or changed personal data, when and why.

    \b
    Example:
      smsd audit --subject K7M2QX --json
    """
    entries = ctx.store().audit.list_audit(subject=subject)
    rows = [to_jsonable(e) for e in entries]
    if as_json:
        echo_json(rows)
    else:
        echo_table(rows, ["id", "at", "actor", "action", "subject", "reason"], "no audit records")


@click.command()
@click.argument("path", type=click.Path(dir_okay=False))
@pass_ctx
@command_edge
def backup(ctx: Context, path: str) -> None:
    """Copy the live database to a new file PATH (0600), consistently, while it runs.

    \b
    Example:
      smsd backup /var/backups/smsd-$(date +%F).db
    """
    store = ctx.store()
    target = store.backup(Path(path))
    store.audit.record_audit(operator_name(), "backup", None, str(target))
    click.echo(f"backed up to {target}")


def register(group: click.Group) -> None:
    """Add ``disclose``, ``audit`` and ``backup`` to the top-level group."""
    group.add_command(disclose)
    group.add_command(audit)
    group.add_command(backup)
