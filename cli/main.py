"""The ``smsd`` command: one Click group an operator can live in.

Each top-level command lives in the module named after it (``smsd company`` in
`cli/company.py`) and is imported only when it runs (see `cli.lazy`). Shared pieces are leaf
modules: `cli.context` (the typed context, the command edge, exit codes), `cli.prompts`,
`cli.operator`, `cli.lookup`, `cli.filters` and `cli.output`. No command module imports this
one. A command module is named after its command and defines it under that same name.
"""

from __future__ import annotations

import os
from typing import IO, Any

import click
from click.exceptions import NoArgsIsHelpError

from cli.context import DEFAULT_DB, EXIT_USAGE, Context, fail
from cli.lazy import LazyCommand, LazyGroup
from cli.logsetup import configure_when_imported

__all__ = ["COMMANDS", "OneLineUsageError", "SmsdGroup", "cli", "hoist_globals", "main"]

#: Every top-level command: where it lives and the summary `smsd --help` lists.
COMMANDS = {
    name: LazyCommand(f"cli.{name}:{name}", summary)
    for name, summary in {
        "audit": "List the audit trail: who read or changed personal data, when and why.",
        "backup": "Copy the live database to a new file PATH (0600), consistently, while it runs.",
        "broadcast": "Queue TEXT to every person opted in to COMPANY, within its daily cap and"
        " quiet hours.",
        "code": "Codes (keywords) that people text: add, update, remove, list, pause.",
        "company": "Businesses: add, update, show, list and approve them.",
        "db": "The database: migrate it, or copy a SQLite gateway into PostgreSQL.",
        "consent": "Consent records: export every opt-in and opt-out, as a regulator would ask"
        " for them.",
        "demo": "Show the gateway end to end on a simulated modem, in a temporary folder.",
        "disclose": "Export everything held on a person as JSON (a subject access request),"
        " audited.",
        "doctor": "Check an installation: config, database, device, modem, SIM, registration,"
        " signal.",
        "export": "Export a business's history (user code, code, time) as CSV or JSON; audited.",
        "history": "A business's callers by user code: code and time (latest page).",
        "inbox": "Incoming messages, newest first.",
        "init": "Create an empty gateway database at --db (0600, migrated); an existing one is"
        " migrated.",
        "invoice": "Monthly invoices: create, list, show.",
        "metrics": "Messages, outbox, modems, route latency and webhooks in the Prometheus text"
        " format.",
        "modem": "The GSM modem: status and signal.",
        "poll": "Polls by keyword: create, results, close.",
        "outbox": "Outgoing messages, newest first; `outbox retry ID` requeues a failed one.",
        "run": "Run the gateway daemon until SIGTERM.",
        "send": "Queue TEXT to NUMBER (normalised to E.164); the daemon sends it within a second.",
        "sim": "Run a simulated GSM modem on a pseudo-terminal (no hardware needed).",
        "stats": "Distinct people and requests per hour, weekday, code, sector, age, gender or"
        " country.",
        "token": "API tokens: a business's (read or write) or the operator's.",
        "user": "People: register, update, show, erase; check a password.",
        "web": "Serve the web portal for people and businesses over the same database.",
        "webhook": "Signed webhooks (Standard Webhooks) for a business's events or the operator's.",
    }.items()
}


_GLOBAL = ("--db", "--config")


def hoist_globals(args: list[str]) -> list[str]:
    """Move ``--db``/``--config`` (and their values) to the front, wherever they were typed.

    `smsd history X --db F` then means `smsd --db F history X`. Arguments after ``--`` stay
    where they are, so a message text that starts with ``--db`` can still be sent after it.
    """
    front: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            rest.extend(args[index:])
            break
        name = arg.split("=", 1)[0]
        if name in _GLOBAL and "=" in arg:
            front.append(arg)
        elif arg in _GLOBAL and index + 1 < len(args):
            front.extend(args[index : index + 2])
            index += 1
        else:
            rest.append(arg)
        index += 1
    return front + rest


def _undecodable(args: list[str]) -> str | None:
    for arg in args:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            return arg.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
    return None


class OneLineUsageError(click.ClickException):
    """A usage error shown as one line on stderr, exit 2 (instead of Click's three lines).

    ``smsd send: error: Missing argument 'TEXT'. (smsd send --help for help)``: the command
    as typed, the problem, and where to read more. What the user typed is shown escaped.
    """

    exit_code = EXIT_USAGE

    @classmethod
    def of(cls, exc: click.UsageError) -> OneLineUsageError:
        """The one-line form of Click's `exc`, naming the command it arose in."""
        from cli.render import safe  # the error path only

        command = exc.ctx.command_path if exc.ctx is not None else "smsd"
        problem = " ".join(exc.format_message().split())
        return cls(f"{command}: error: {safe(problem)} ({command} --help for help)")

    def show(self, file: IO[Any] | None = None) -> None:
        """Print the one line (on stderr unless `file` is given)."""
        click.echo(self.message, file=file, err=file is None)


class SmsdGroup(LazyGroup):
    """The top group: global options anywhere on the line, and arguments must be UTF-8.

    Every usage error (unknown command or option, missing argument, bad value), whether Click
    raises it while parsing or a command raises it, leaves as one line (`OneLineUsageError`).
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Refuse non-UTF-8 arguments with one line; hoist --db/--config to the front."""
        bad = _undecodable(args)
        if bad is not None:
            fail(f"argument is not valid UTF-8: {bad}", EXIT_USAGE)
        return super().parse_args(ctx, hoist_globals(args))

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        """Parse the top level; a usage error in it becomes one line."""
        try:
            return super().make_context(info_name, args, parent, **extra)
        except NoArgsIsHelpError:
            raise  # `smsd` alone: the help, as Click prints it
        except click.UsageError as exc:
            raise OneLineUsageError.of(exc) from exc

    def invoke(self, ctx: click.Context) -> Any:
        """Run the subcommand; a usage error in it or its parsing becomes one line."""
        try:
            return super().invoke(ctx)
        except NoArgsIsHelpError:
            raise  # a group alone (`smsd company`): its help, as Click prints it
        except click.UsageError as exc:
            raise OneLineUsageError.of(exc) from exc


@click.group(
    cls=SmsdGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--db",
    type=click.Path(dir_okay=False),
    help="SQLite file (or sqlite:///path), or a postgresql:// URL"
    f" (default: $SMSD_DB, then the config, then {DEFAULT_DB}).",
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

    --db and --config may come before or after the command.

    \b
    Example:
      smsd --db /tmp/demo.db company add "Pizza Place"
      smsd --db /tmp/demo.db code add "Pizza Place" PIZZA --reply "10% off today"
      smsd --db /tmp/demo.db run --device sim
    """
    # Commands log warnings only, on stderr, so stdout stays a clean table or JSON document.
    # Start-up cost: applied when structlog is first imported, so `smsd send` never loads it.
    configure_when_imported(os.environ.get("SMSD_LOG_LEVEL", "warning"))
    ctx.obj = Context(db, config)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="smsd")
