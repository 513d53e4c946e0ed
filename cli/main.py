"""The ``smsd`` command: one Click group an operator can live in.

Each top-level command lives in the module named after it (``smsd company`` in
`cli/company.py`) and is imported only when it runs (see `cli.lazy`). Shared pieces are leaf
modules: `cli.context` (the typed context, the command edge, exit codes), `cli.prompts`,
`cli.operator`, `cli.lookup`, `cli.filters` and `cli.output`. No command module imports this one.
"""

from __future__ import annotations

import os

import click

from cli.context import DEFAULT_DB, Context
from cli.lazy import LazyGroup

__all__ = ["COMMANDS", "cli", "main"]

#: Every top-level command: its name and the ``module:attribute`` that defines it.
COMMANDS = {
    name: f"cli.{module}:{name}"
    for name, module in {
        "audit": "audit",
        "backup": "backup",
        "broadcast": "broadcast",
        "code": "code",
        "company": "company",
        "disclose": "disclose",
        "doctor": "doctor",
        "export": "export",
        "history": "history",
        "inbox": "inbox",
        "invoice": "invoice",
        "modem": "modem",
        "outbox": "outbox",
        "run": "run",
        "send": "send",
        "sim": "sim",
        "stats": "stats",
        "user": "user",
    }.items()
}


@click.group(
    cls=LazyGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--db",
    type=click.Path(dir_okay=False),
    help=f"SQLite database (default: $SMSD_DB, then the config, then {DEFAULT_DB}).",
)
@click.option(
    "--config",
    type=click.Path(dir_okay=False),
    envvar="SMSD_CONFIG",
    help="TOML configuration (default /etc/smsd/smsd.toml if present).",
)
@click.version_option(package_name="smsactive")
@click.pass_context
def cli(ctx: click.Context, db: str | None, config: str | None) -> None:
    """smsactive: SMS keyword and opt-in gateway.

    \b
    Example:
      smsd --db /tmp/demo.db company add "Pizza Place"
      smsd --db /tmp/demo.db code add "Pizza Place" PIZZA --reply "10% off today"
      smsd --db /tmp/demo.db run --device sim
    """
    # Start-up cost: structlog is loaded here, not at import, so `smsd --help` skips it.
    from smsd.logs import configure_logging

    # Commands log warnings only, on stderr, so stdout stays a clean table or JSON document.
    configure_logging(os.environ.get("SMSD_LOG_LEVEL", "warning"))
    ctx.obj = Context(db, config)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="smsd")
