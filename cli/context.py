"""What every command shares: the typed `Context`, the command edge and the exit codes.

A leaf: it imports Click and nothing of ours at run time. Exit codes: 0 ok, 1 user error (bad
value, unknown name, duplicate), 2 usage (Click's own), 3 cannot reach the database or the
modem. Errors print one line on stderr.

`Context`, `DEFAULT_DB` and the exit codes live in the Click-free leaf `cli.session` and are
re-exported here. Start-up cost: the error classes are imported only when an error reaches the
edge. This is not a circle dodge: none of those modules imports `cli`.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import NoReturn, ParamSpec, TypeVar

import click

from cli.session import DEFAULT_DB, EXIT_OK, EXIT_UNAVAILABLE, EXIT_USAGE, EXIT_USER, Context

__all__ = [
    "DEFAULT_DB",
    "EXIT_OK",
    "EXIT_UNAVAILABLE",
    "EXIT_USAGE",
    "EXIT_USER",
    "Context",
    "command_edge",
    "exit_code_for",
    "fail",
    "pass_ctx",
]

P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, code: int = EXIT_USER) -> NoReturn:
    """Print one line on stderr and exit with ``code``."""
    from cli.render import safe

    click.echo(f"Error: {safe(message)}", err=True)
    sys.exit(code)


def exit_code_for(exc: Exception) -> int | None:
    """The exit code for a library error, or None when it is not one the edge translates."""
    from cli.instance import AlreadyRunning
    from modem.errors import ModemError
    from smsd.errors import ConfigError, SmsdError
    from store.errors import Conflict, InvalidInput, NotFound, StoreError, StoreUnavailable

    if isinstance(exc, BrokenPipeError):
        return None  # the reader went away (`smsd outbox | head`): Click exits quietly
    if isinstance(exc, NotFound | Conflict | InvalidInput | ConfigError | AlreadyRunning):
        return EXIT_USER
    if isinstance(exc, StoreUnavailable | ModemError | ConnectionError | FileNotFoundError):
        return EXIT_UNAVAILABLE
    if isinstance(exc, StoreError | SmsdError):
        return EXIT_USER
    return None


#: What a raw SQLite uniqueness failure means to an operator.
_UNIQUE = {
    "businesses.name": "a business with that name already exists (use company update)",
    "codes.keyword": "that code is already taken",
    "people.phone": "a person with that phone number already exists (use user update)",
    "invoices.number": "that invoice already exists",
}


def _message(exc: Exception, code: int) -> str:
    text = str(exc)
    if code == EXIT_UNAVAILABLE:
        return text or type(exc).__name__
    if text.startswith("UNIQUE constraint failed: "):
        column = text.removeprefix("UNIQUE constraint failed: ").split(",")[0].strip()
        return _UNIQUE.get(column, f"already exists ({column})")
    return text


def command_edge(func: Callable[P, R]) -> Callable[P, R]:
    """Translate library errors into one line and an exit code, at the command's edge only."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except click.ClickException:
            raise
        except Exception as exc:
            code = exit_code_for(exc)
            if code is None:
                raise
            fail(_message(exc, code), code)

    return wrapper


pass_ctx = click.make_pass_decorator(Context)
