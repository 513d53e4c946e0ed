"""``smsd web``: the web portal for people and businesses (docs/WEB.md)."""

from __future__ import annotations

import os

import click

from cli.context import Context, command_edge, pass_ctx

__all__ = ["web"]


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
    from smsd.web.server import parse_listen, serve

    os.umask(0o077)
    config = ctx.config()
    host, port = parse_listen(listen or config.web.listen)
    click.echo(f"smsd web: serving http://{host}:{port}/ (Ctrl-C stops)", err=True)
    serve(config, ctx.db, listen, ctx.config_path)
