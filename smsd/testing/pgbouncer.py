"""A throwaway pgbouncer in transaction mode in front of a running `PgCluster`, for tests.

Debian's pgbouncer (`make test` installs it where missing) listens on a free port of
127.0.0.1, pools in ``transaction`` mode with a small pool (``default_pool_size``, 2 by
default) so that several clients really share server connections, trusts local users (a test
set-up holds nothing), and sends any database name on to the cluster (a ``*`` line). Its
config, auth file and log live in a temp folder. pgbouncer refuses to run as root: as root it
runs as the cluster's `postgres` user (`runuser -u postgres`), its folder chowned to that user.

Each test gets a database of its own (`fresh_url`), not a schema as with `PgCluster.fresh_url`:
that one selects its schema with an ``options=-csearch_path=...`` startup parameter, which
pgbouncer 1.18 refuses ("unsupported startup parameter") unless `ignore_startup_parameters`
lists it, and then it would be dropped, not applied.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from smsd.testing.pgcluster import PgCluster, as_server_owner, free_port, hand_over

__all__ = ["PGBOUNCER", "PgBouncer", "available"]

PGBOUNCER = Path(os.environ.get("SMSD_PGBOUNCER", "/usr/sbin/pgbouncer"))


def available() -> bool:
    """True when the pgbouncer binary is installed."""
    return PGBOUNCER.exists()


class PgBouncer:
    """pgbouncer over `cluster` in temp folders; `start()`, `stop()`, `fresh_url()`."""

    def __init__(self, cluster: PgCluster, *, pool_size: int = 2) -> None:
        self.cluster = cluster
        self.pool_size = pool_size
        self.root = Path(tempfile.mkdtemp(prefix="smsd-pgbouncer-"))
        self.log = self.root / "pgbouncer.log"
        self.port = free_port()
        self.user = cluster.user
        self._counter = itertools.count(1)
        self._process: subprocess.Popen[bytes] | None = None

    def _config(self) -> str:
        return "\n".join([
            "[databases]",
            f"* = host=127.0.0.1 port={self.cluster.port}",
            "[pgbouncer]",
            "listen_addr = 127.0.0.1",
            f"listen_port = {self.port}",
            "unix_socket_dir =",  # TCP only: no socket file outside our folder
            "auth_type = trust",
            f"auth_file = {self.root / 'users.txt'}",  # trust still wants the user listed
            "pool_mode = transaction",
            f"default_pool_size = {self.pool_size}",
            "max_client_conn = 200",
            "query_wait_timeout = 30",  # a client starved of the pool fails, never hangs
            f"logfile = {self.log}",
            f"pidfile = {self.root / 'pgbouncer.pid'}",
        ]) + "\n"  # fmt: skip

    def start(self) -> None:
        """Write the config, start pgbouncer and wait until it accepts connections."""
        (self.root / "pgbouncer.ini").write_text(self._config())
        (self.root / "users.txt").write_text(f'"{self.user}" ""\n')
        hand_over(self.root, [self.root, *self.root.iterdir()])
        self._process = subprocess.Popen(  # its own process group: stop() ends runuser too
            as_server_owner([str(PGBOUNCER), "-q", str(self.root / "pgbouncer.ini")]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._wait_listening(timeout=30)

    def _wait_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"pgbouncer exited at start: {self.log_text()[-2000:]}")
            with socket.socket() as s, contextlib.suppress(OSError):
                s.connect(("127.0.0.1", self.port))
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"pgbouncer not listening after {timeout:g}s")
            time.sleep(0.02)  # a poll interval on a deadline, not a synchronisation sleep

    def log_text(self) -> str:
        """pgbouncer's log so far ("" before it wrote any)."""
        try:
            return self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def fresh_url(self) -> str:
        """A new, empty database on the cluster, reached through the bouncer (module doc)."""
        import psycopg

        name = f"b{os.getpid()}_{next(self._counter)}"
        with psycopg.connect(self.cluster.url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{name}"

    def direct_url(self, url: str) -> str:
        """The same database as bouncer `url`, straight on the cluster (checks, set-up)."""
        name = url.rsplit("/", 1)[1]
        return f"postgresql://{self.user}@127.0.0.1:{self.cluster.port}/{name}"

    def stop(self) -> None:
        """Kill pgbouncer (and runuser around it) and remove its folder."""
        if self._process is not None and self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)
