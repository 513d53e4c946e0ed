"""``smsd metrics``: the Prometheus metrics, on stdout or into node_exporter's textfile."""

from __future__ import annotations

import click

from cli.context import Context, command_edge, pass_ctx

__all__ = ["metrics"]


@click.command()
@click.option(
    "--textfile",
    type=click.Path(dir_okay=False),
    help="Write here atomically (node_exporter's textfile collector) instead of stdout.",
)
@pass_ctx
@command_edge
def metrics(ctx: Context, textfile: str | None) -> None:
    """Messages, outbox, modems, route latency and webhooks in the Prometheus text format.

    \b
    Example:
      smsd metrics --textfile /var/lib/node_exporter/textfile/smsd.prom
    """
    from prometheus_client import generate_latest

    from smsd.integrations.metrics import registry_for, write_textfile

    store = ctx.store()
    if textfile:
        write_textfile(store, textfile)
        return
    click.echo(generate_latest(registry_for(store, min_interval_s=0.0)).decode(), nl=False)
