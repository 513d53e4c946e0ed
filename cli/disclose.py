"""``smsd disclose``: everything held on a person as JSON (a subject access request), audited."""

from __future__ import annotations

import click

from cli.context import Context, command_edge, pass_ctx
from cli.lookup import resolve_who
from cli.operator import operator_name, write_private
from cli.output import json_text

__all__ = ["disclose"]


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
    store = ctx.store()
    person = resolve_who(ctx, store, who)
    with store.transaction():
        store.audit.record_audit(operator_name(), "disclose", person.user_code, reason)
        dossier = store.stats.person_dossier(person.user_code)
    text = json_text(dossier)  # texts from handsets: C1 and bidi controls escaped
    if output is None:
        click.echo(text)
    else:
        write_private(output, text + "\n")
        click.echo(f"wrote everything held on {person.user_code} to {output}", err=True)
