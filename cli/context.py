"""What every command shares: the typed `Context`, the command edge and the exit codes.

A leaf: it imports Click and nothing of ours at run time. Exit codes: 0 ok, 1 user error (bad
value, unknown name, duplicate), 2 usage (Click's own), 3 cannot reach the database or the
modem. Errors print one line on stderr.

Start-up cost: the configuration and `Store` are imported where they are first used
(`source()`, `config()`, `store()`) and the error classes only when an error reaches the edge,
so `smsd sim ...` and `smsd --help` never load the store. This is not a circle dodge: none of
those modules imports `cli`. `config()` reads the file afresh on each call (`smsd run` reloads
it on SIGHUP) and builds and checks every section; a one-shot command such as `smsd send` asks
`source()`, read once per command line, for the two or three sections it uses.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn, ParamSpec, TypeVar

import click

if TYPE_CHECKING:
    from smsd.config import Config
    from smsd.config_source import ConfigSource
    from store.store import Store

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

EXIT_OK = 0
EXIT_USER = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3
DEFAULT_DB = "/var/lib/smsd/smsd.db"

P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, code: int = EXIT_USER) -> NoReturn:
    """Print one line on stderr and exit with ``code``."""
    from cli.render import safe

    click.echo(f"Error: {safe(message)}", err=True)
    sys.exit(code)


def exit_code_for(exc: Exception) -> int | None:
    """The exit code for a library error, or None when it is not one the edge translates."""
    from modem.errors import ModemError
    from smsd.errors import ConfigError, SmsdError
    from store.errors import Conflict, InvalidInput, NotFound, StoreError, StoreUnavailable

    if isinstance(exc, BrokenPipeError):
        return None  # the reader went away (`smsd outbox | head`): Click exits quietly
    if isinstance(exc, NotFound | Conflict | InvalidInput | ConfigError):
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


class Context:
    """Where the database and the config are; opens them on demand."""

    def __init__(self, db: str | None, config: str | None) -> None:
        self._db = db
        self.config_path = config
        self._source: ConfigSource | None = None

    @property
    def db(self) -> str:
        """The database path: --db, then SMSD_DB, then the config file, then the default."""
        if self._db:
            return self._db
        if os.environ.get("SMSD_DB"):
            return os.environ["SMSD_DB"]
        return self.source().database().target

    def source(self) -> ConfigSource:
        """The configuration file and SMSD_* overrides, read once; sections built on demand."""
        if self._source is None:
            from smsd.config_source import ConfigSource

            self._source = ConfigSource.read(self.config_path)
        return self._source

    def config(self) -> Config:
        """The whole configuration (TOML + SMSD_* overrides), read now, every section checked."""
        from smsd.config import load_config

        return load_config(self.config_path)

    def store(self, *, read_only: bool = False, create: bool = False) -> Store:
        """Open the store: it must exist unless `create` (then it is created and migrated).

        Read commands pass `read_only`: they can neither create nor change the database, so a
        mistyped --db is exit 3 ("no database at ...") and leaves no file behind.
        """
        from store.errors import StoreUnavailable
        from store.store import Store

        os.umask(0o077)  # the database and its WAL/SHM files are private to the service user
        try:
            return Store.open(self.db, read_only=read_only, create=create)
        except StoreUnavailable as exc:
            if str(exc).startswith("no database at "):
                raise StoreUnavailable(f"{exc} (smsd init creates one)") from exc
            raise


pass_ctx = click.make_pass_decorator(Context)
