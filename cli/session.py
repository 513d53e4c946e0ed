"""Where the database and the configuration are, and the exit codes: no Click here.

A leaf shared by the Click commands (through `cli.context`, which re-exports it) and by the
quick path of `smsd send` (`cli.quicksend`), which runs without importing Click at all. The
configuration and `Store` are imported where they are first used (`source()`, `config()`,
`store()`), so `smsd sim ...` and `smsd --help` never load the store. `config()` reads the file
afresh on each call (`smsd run` reloads it on SIGHUP) and builds and checks every section; a
one-shot command such as `smsd send` asks `source()`, read once per command line, for the two
or three sections it uses.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smsd.config import Config
    from smsd.config_source import ConfigSource
    from store.store import Store

__all__ = ["DEFAULT_DB", "EXIT_OK", "EXIT_UNAVAILABLE", "EXIT_USAGE", "EXIT_USER", "Context"]

EXIT_OK = 0
EXIT_USER = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3
DEFAULT_DB = "/var/lib/smsd/smsd.db"


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
