"""``smsd init``: create an empty gateway database (0600, migrated), or bring one up to date."""

from __future__ import annotations

from pathlib import Path

import click

from cli.context import Context, command_edge, pass_ctx
from cli.render import safe

__all__ = ["init"]


@click.command()
@pass_ctx
@command_edge
def init(ctx: Context) -> None:
    """Create an empty gateway database at --db (0600, migrated); an existing one is migrated.

    Read commands never create a database: a mistyped --db fails with exit 3 instead.

    \b
    Example:
      smsd --db /var/lib/smsd/smsd.db init
    """
    path = Path(ctx.db)
    existed = path.exists()
    ctx.store(create=True).close()
    click.echo(f"{'database up to date' if existed else 'created database'} {safe(path)}")
