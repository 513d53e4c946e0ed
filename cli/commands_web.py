"""``smsd web`` (the portal) and ``smsd company approve`` (a business that signed up there)."""

from __future__ import annotations

import click

from cli.main import Context, command_edge, pass_ctx

__all__ = ["register"]


@click.command()
@click.option(
    "--listen",
    metavar="HOST:PORT",
    help="Address to serve on (default: [web] listen, 127.0.0.1:8080).",
)
@pass_ctx
@command_edge
def web(ctx: Context, listen: str | None) -> None:
    """Serve the web portal for people and businesses over the same database.

    Put a TLS reverse proxy in front of it in production (docs/DEPLOYING.md).

    \b
    Example:
      smsd --db /tmp/demo.db web --listen 127.0.0.1:8080
    """
    import os

    from smsd.web.server import parse_listen, serve

    os.umask(0o077)
    config = ctx.config()
    host, port = parse_listen(listen or config.web.listen)
    click.echo(f"smsd web: serving http://{host}:{port}/ (Ctrl-C stops)", err=True)
    serve(config, ctx.db, listen, ctx.config_path)


@click.command("approve")
@click.argument("name")
@pass_ctx
@command_edge
def company_approve(ctx: Context, name: str) -> None:
    """Make a business that signed up on the web live.

    \b
    Example:
      smsd company approve "Pizza Place"
    """
    changed = ctx.store().web.approve(name)
    click.echo(f"approved {name}" if changed else f"{name} was already live")


def register(group: click.Group) -> None:
    """Add ``web`` to the top-level group and ``approve`` to ``company``."""
    group.add_command(web)
    company = group.commands.get("company")
    if isinstance(company, click.Group):
        company.add_command(company_approve)
