"""``smsd audit``: the audit trail of who read or changed personal data, when and why."""

from __future__ import annotations

import click

from cli.context import Context, command_edge, pass_ctx
from cli.output import echo_json, echo_table, to_jsonable

__all__ = ["audit"]


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
    entries = ctx.store(read_only=True).audit.list_audit(subject=subject)
    rows = [to_jsonable(e) for e in entries]
    if as_json:
        echo_json(rows)
    else:
        echo_table(rows, ["id", "at", "actor", "action", "subject", "reason"], "no audit records")
