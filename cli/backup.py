"""``smsd backup``: a consistent copy of the live database in a new private file; audited."""

from __future__ import annotations

from pathlib import Path

import click

from cli.context import Context, command_edge, pass_ctx
from cli.operator import operator_name

__all__ = ["backup"]


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
