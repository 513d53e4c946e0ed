"""A throwaway PostgreSQL cluster for tests: initdb in a temp folder, a random local port.

Debian's postgresql 15 lives in /usr/lib/postgresql/15/bin (`make test` installs it where
missing). `initdb` refuses to run as root, so as root the cluster belongs to the `postgres`
user (`runuser -u postgres`): its data folder and unix-socket folder are temp folders chowned
to that user. The server listens on 127.0.0.1 only, trusts local connections (a test cluster
holds nothing), and runs without fsync (a crash of the test machine loses nothing of value)
but with synchronous commits, so a server stopped with `pause()` keeps every commit.

Each test gets a schema of its own (`fresh_url`), which is much cheaper than a database
(`CREATE DATABASE` copies a template; `CREATE SCHEMA` writes one catalog row).

Fail-over: `start_standby()` makes a streaming standby of a running cluster (`pg_basebackup
-R` into a new cluster of its own, on its own port), replicated synchronously by default;
`wait_replayed()` and `promote()` on the standby; `multi_host_url()` names several clusters in
one libpq URL (`target_session_attrs` picks the one that accepts writes).
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
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from smsd.testing.waiting import wait_until

__all__ = [
    "PG_BIN",
    "SERVER_OWNER",
    "PgCluster",
    "as_server_owner",
    "available",
    "free_port",
    "hand_over",
    "multi_host_url",
]

PG_BIN = Path(os.environ.get("SMSD_PG_BIN", "/usr/lib/postgresql/15/bin"))


def available() -> bool:
    """True when the PostgreSQL server binaries are installed."""
    return (PG_BIN / "initdb").exists() and (PG_BIN / "pg_ctl").exists()


#: Who runs the test servers: as root the `postgres` user (initdb and pgbouncer refuse root),
#: otherwise we do (None).
SERVER_OWNER = "postgres" if os.geteuid() == 0 else None


def as_server_owner(argv: Sequence[str]) -> list[str]:
    """`argv` run as `SERVER_OWNER` (``runuser``), or as it is when that is us."""
    return ["runuser", "-u", SERVER_OWNER, "--", *argv] if SERVER_OWNER else list(argv)


def hand_over(root: Path, paths: Sequence[Path]) -> None:
    """Let `SERVER_OWNER` reach `root` and own `paths` (folders and files a server writes)."""
    os.chmod(root, 0o755)  # noqa: S103 - the server's user must reach its folders
    if SERVER_OWNER:
        entry = pwd.getpwnam(SERVER_OWNER)
        for path in paths:
            os.chown(path, entry.pw_uid, entry.pw_gid)


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
        self.user = SERVER_OWNER or pwd.getpwuid(os.geteuid()).pw_name
        self._options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port}"
            f" -c unix_socket_directories={self.sockets}"
            " -c max_connections=200 -c shared_buffers=64MB"
            + ("" if self.durable else " -c fsync=off -c full_page_writes=off")
        )

    def _run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            as_server_owner(argv), check=True, capture_output=True, text=True, timeout=120
        )

    def _make_folders(self) -> None:
        self.data.mkdir(mode=0o700)  # the server refuses a data folder others may read
        self.sockets.mkdir()
        hand_over(self.root, [self.data, self.sockets])

    def start(self) -> None:
        """initdb, then start the server and wait until it accepts connections."""
        self._make_folders()
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-E", "UTF8",
                  "--locale=C.UTF-8", "-U", self.user)  # fmt: skip
        self.resume()

    def start_standby(self, *, synchronous: bool = True) -> PgCluster:
        """A new cluster streaming from this running one (`stop()` it too), started and
        caught up. `synchronous`: from now on a COMMIT here returns only once the standby
        has applied it (`synchronous_commit = remote_apply`), so after COMMIT the standby
        holds the row and shows it to its readers; a promotion then loses nothing.

        The setting is made after the copy, so the standby does not inherit it: promoted,
        it would otherwise wait at every COMMIT for a standby of its own that never comes.
        """
        standby = PgCluster(durable=self.durable)
        standby._make_folders()
        standby._run(str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.port),
                     "-U", self.user, "-D", str(standby.data), "-R", "-X", "stream",
                     "-c", "fast")  # fmt: skip
        standby.resume()
        if synchronous:
            self._alter_system("synchronous_standby_names", "*")
            self._alter_system("synchronous_commit", "remote_apply")
        standby.wait_replayed(self)
        return standby

    def _alter_system(self, name: str, value: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url, autocommit=True) as conn:
            setting = sql.SQL("ALTER SYSTEM SET {} = {}")
            conn.execute(setting.format(sql.Identifier(name), sql.Literal(value)))
            conn.execute("SELECT pg_reload_conf()")

    def wait_replayed(self, primary: PgCluster, timeout: float = 30) -> None:
        """Wait until this standby has replayed `primary`'s current WAL position."""
        import psycopg

        with psycopg.connect(primary.url, autocommit=True) as conn:
            row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
        assert row is not None
        lsn = str(row[0])

        def replayed() -> bool:
            with psycopg.connect(self.url, autocommit=True) as conn:
                done = conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,))
                return bool((done.fetchone() or (False,))[0])

        wait_until(replayed, timeout, what=f"the standby on port {self.port} replaying {lsn}")

    def promote(self) -> None:
        """Promote this standby to a primary and wait until it accepts writes."""
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", "promote")

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


def multi_host_url(url: str, clusters: Sequence[PgCluster], session_attrs: str) -> str:
    """`url` (a single-host `url` or `fresh_url()` of one of `clusters`) naming every one of
    `clusters` in turn: libpq connects to the first with `target_session_attrs=session_attrs`
    (``read-write``: the one that accepts writes; ``prefer-standby``: a standby if any)."""
    parts = urlsplit(url)
    hosts = ",".join(f"127.0.0.1:{c.port}" for c in clusters)
    query = "&".join(q for q in (parts.query, f"target_session_attrs={session_attrs}") if q)
    return urlunsplit((parts.scheme, f"{parts.username}@{hosts}", parts.path, query, ""))
