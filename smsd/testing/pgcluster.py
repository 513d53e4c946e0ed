"""A throwaway PostgreSQL cluster for tests: initdb in a temp folder, a random local port.

Debian's postgresql 15 lives in /usr/lib/postgresql/15/bin (`make test` installs it where
missing). `initdb` refuses to run as root, so as root the cluster belongs to the `postgres`
user (`runuser -u postgres`): its data folder and unix-socket folder are temp folders chowned
to that user. The server listens on 127.0.0.1 only, trusts local connections (a test cluster
holds nothing), and runs without fsync (a crash of the test machine loses nothing of value)
but with synchronous commits, so a server stopped with `pause()` keeps every commit.

Each test gets a schema of its own (`fresh_url`), which is much cheaper than a database
(`CREATE DATABASE` copies a template; `CREATE SCHEMA` writes one catalog row).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

__all__ = ["PG_BIN", "PgCluster", "available", "free_port"]

PG_BIN = Path(os.environ.get("SMSD_PG_BIN", "/usr/lib/postgresql/15/bin"))


def available() -> bool:
    """True when the PostgreSQL server binaries are installed."""
    return (PG_BIN / "initdb").exists() and (PG_BIN / "pg_ctl").exists()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the time of asking)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgCluster:
    """One PostgreSQL server in temp folders; `start()`, `stop()`, `fresh_url()`."""

    def __init__(self, *, durable: bool = False) -> None:
        self.durable = durable  # fsync on, as in production (benchmarks)
        self.root = Path(tempfile.mkdtemp(prefix="smsd-pg-"))
        self.data = self.root / "data"
        self.sockets = self.root / "run"
        self.port = free_port()
        self._counter = itertools.count(1)
        self._owner = "postgres" if os.geteuid() == 0 else None
        self.user = self._owner or pwd.getpwuid(os.geteuid()).pw_name

    def _run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", self._owner, "--"] if self._owner else []
        return subprocess.run(
            [*prefix, *argv], check=True, capture_output=True, text=True, timeout=120
        )

    def start(self) -> None:
        """initdb, then start the server and wait until it accepts connections."""
        self.data.mkdir()
        self.sockets.mkdir()
        os.chmod(self.root, 0o755)  # noqa: S103 - the server's user must reach its folders
        if self._owner:
            entry = pwd.getpwnam(self._owner)
            for path in (self.data, self.sockets):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-E", "UTF8",
                  "--locale=C.UTF-8", "-U", self.user)  # fmt: skip
        self._options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port}"
            f" -c unix_socket_directories={self.sockets}"
            " -c max_connections=200 -c shared_buffers=64MB"
            + ("" if self.durable else " -c fsync=off -c full_page_writes=off")
        )
        self.resume()

    def pause(self) -> None:
        """Stop the server as a crash would (immediate shutdown); `resume()` starts it again."""
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def resume(self) -> None:
        """Start the stopped server again, on the same port."""
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", self._options, "-w",
                  "-t", "60", "-l", str(self.data / "server.log"), "start")  # fmt: skip

    @property
    def url(self) -> str:
        """The cluster's `postgres` database."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres"

    def fresh_url(self) -> str:
        """A URL whose search_path is a new, empty schema: one test's own database."""
        import psycopg

        name = f"t{os.getpid()}_{next(self._counter)}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {name}")
        return f"{self.url}?options=-csearch_path%3D{name}"

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove its folders."""
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w",
                      "stop")  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)
