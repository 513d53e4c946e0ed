"""The ``smsd`` command: one Click group an operator can live in.

Exit codes: 0 ok, 1 user error (bad value, unknown name, duplicate), 2 usage (Click's own),
3 cannot reach the database or the modem. Errors print one line on stderr.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from modem.errors import ModemError
from smsd.errors import ConfigError, SmsdError
from store.errors import Conflict, InvalidInput, NotFound, StoreError, StoreUnavailable

__all__ = ["EXIT_OK", "EXIT_UNAVAILABLE", "EXIT_USER", "cli", "command_edge", "main"]

EXIT_OK = 0
EXIT_USER = 1
EXIT_UNAVAILABLE = 3
DEFAULT_DB = "/var/lib/smsd/smsd.db"

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = EXIT_USER) -> None:
    """Print one line on stderr and exit with ``code``."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def command_edge(func: F) -> F:
    """Translate library errors into one line and an exit code, at the command's edge only."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (NotFound, Conflict, InvalidInput, ConfigError) as exc:
            fail(str(exc), EXIT_USER)
        except (StoreUnavailable, ModemError, ConnectionError, FileNotFoundError) as exc:
            fail(str(exc) or type(exc).__name__, EXIT_UNAVAILABLE)
        except (StoreError, SmsdError) as exc:
            fail(str(exc), EXIT_USER)
        return None

    return wrapper  # type: ignore[return-value]


class Context:
    """What every command shares: where the database and the config are."""

    def __init__(self, db: str | None, config: str | None) -> None:
        self._db = db
        self.config_path = config

    @property
    def db(self) -> str:
        """The database path: --db, then SMSD_DB, then the config file, then the default."""
        if self._db:
            return self._db
        if os.environ.get("SMSD_DB"):
            return os.environ["SMSD_DB"]
        return str(self.config().database_path)

    def config(self) -> Any:
        """The loaded configuration (TOML + SMSD_* overrides)."""
        from smsd.config import load_config

        return load_config(self.config_path)

    def store(self) -> Any:
        """Open the store (creates and migrates it on first use)."""
        from store.store import Store

        os.umask(0o077)  # the database and its WAL/SHM files are private to the service user
        return Store.open(self.db)


pass_ctx = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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
    from smsd.logs import configure_logging

    # Commands log warnings only, on stderr, so stdout stays a clean table or JSON document.
    configure_logging(os.environ.get("SMSD_LOG_LEVEL", "warning"))
    ctx.obj = Context(db, config)


def _register() -> None:
    from cli import (
        commands_broadcast,
        commands_business,
        commands_invoice,
        commands_modem,
        commands_outbox,
        commands_people,
        commands_privacy,
        commands_run,
        commands_sim,
        commands_stats,
        metrics,
        token,
        webhook,
    )

    for module in (
        commands_run,
        commands_sim,
        commands_business,
        commands_modem,
        commands_people,
        commands_privacy,
        commands_stats,
        commands_invoice,
        commands_outbox,
        commands_broadcast,
        token,
        webhook,
        metrics,
    ):
        module.register(cli)


def main() -> None:
    """Console-script entry point."""
    _register()
    cli(prog_name="smsd")
