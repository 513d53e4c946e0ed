"""``smsd db migrate`` and ``smsd db copy``: the schema, and moving a gateway to PostgreSQL."""

from __future__ import annotations

import click

from cli.context import Context, command_edge, fail, pass_ctx
from cli.output import echo_json
from store.backend import is_postgres_url
from store.migrations import applied_migrations
from store.store import Store
from store.transfer import copy_store

__all__ = ["db"]


@click.group()
def db() -> None:
    """The database: migrate it, or copy a SQLite gateway into PostgreSQL.

    \b
    Example:
      smsd --db postgresql://smsd@db.example/smsd db migrate
      smsd db copy /var/lib/smsd/smsd.db postgresql://smsd@db.example/smsd
    """


@db.command("migrate")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_ctx
@command_edge
def migrate(ctx: Context, as_json: bool) -> None:
    """Apply every pending migration to --db (SQLite file or postgresql:// URL), and bring
    the statistics roll-ups up to date (a rebuild after an upgrade can take minutes).

    \b
    Example:
      smsd --db postgresql://smsd@db.example/smsd db migrate
    """
    with Store.open(ctx.db) as store:
        names = applied_migrations(store.db.conn)
        folded = store.rollups.fold()  # may rebuild the stats roll-ups: minutes at 10 M rows
    if as_json:
        echo_json({"database": store.dialect, "migrations": names, "stats_folded": folded})
        return
    click.echo(f"{store.dialect}: {len(names)} migrations applied, latest {names[-1]}")
    click.echo(f"stats roll-ups: {folded} new requests folded in")


@db.command("copy")
@click.argument("sqlite_path", type=click.Path(exists=True, dir_okay=False))
@click.argument("postgres_url")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@command_edge
def copy(sqlite_path: str, postgres_url: str, as_json: bool) -> None:
    """Copy every row of a SQLite gateway into an empty PostgreSQL database, then verify it.

    Stop the daemon first. Both databases are migrated to the same version, rows copied in
    one transaction, then each table's row count and checksum compared on both sides.

    \b
    Example:
      smsd db copy /var/lib/smsd/smsd.db postgresql://smsd@db.example/smsd
    """
    if not is_postgres_url(postgres_url):
        fail("POSTGRES_URL must start with postgresql://")
    with Store.open(sqlite_path) as source, Store.open(postgres_url) as dest:
        report = copy_store(source, dest)
    if as_json:
        echo_json([{"table": t.table, "rows": t.rows, "checksum": t.checksum} for t in report])
        return
    for t in report:
        click.echo(f"{t.table:<20} {t.rows:>10} rows  sha256-sum {t.checksum[:16]}")
    click.echo(f"copied and verified {len(report)} tables")
