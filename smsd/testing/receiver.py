"""Real HTTP for tests and benchmarks: an ASGI app under uvicorn, a webhook receiver.

Both listen on 127.0.0.1 on a free port. `Receiver` answers each POST with the next status of
its script (200 once the script is used up), records every request, and lets a test wait for
a count with a deadline; `hold` keeps requests hanging until released (a kill mid-delivery).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import uvicorn
from starlette.types import ASGIApp

__all__ = ["Received", "Receiver", "WebProcess", "free_socket", "serving"]


def free_socket() -> socket.socket:
    """A listening-ready TCP socket bound to 127.0.0.1 on a free port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serving(app: ASGIApp) -> Iterator[str]:
    """Serve `app` with uvicorn in a thread; yields the base URL; stops it afterwards."""
    sock = free_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise AssertionError("uvicorn did not start")
        time.sleep(0.01)  # a poll on a deadline
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A sender killed mid-request is what some tests do: no traceback."""


@dataclass(frozen=True)
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """A webhook receiver (http.server) with a scripted status per request."""

    def __init__(self, statuses: list[int] | None = None, *, hold: bool = False) -> None:
        self.statuses = list(statuses or [])
        self.requests: list[Received] = []
        self.arrived = threading.Condition()
        self.release = threading.Event()
        if not hold:
            self.release.set()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                got = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with owner.arrived:
                    owner.requests.append(got)
                    status = owner.statuses.pop(0) if owner.statuses else 200
                    owner.arrived.notify_all()
                owner.release.wait(60)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        """Block until `count` requests arrived (or fail at the deadline); all of them."""
        with self.arrived:
            ok = self.arrived.wait_for(lambda: len(self.requests) >= count, timeout)
            if not ok:
                raise AssertionError(f"got {len(self.requests)} requests, wanted {count}")
            return list(self.requests)


class WebProcess:
    """`smsd web` (the portal with the API and the deliverer) as a subprocess on a free port;
    with `portal=False`, `python -m smsd.integrations` (the API and deliverer alone)."""

    def __init__(self, db: Path, env: dict[str, str] | None = None, *, portal: bool = True) -> None:
        self.db = db
        self.portal = portal
        self.env = {**os.environ, **(env or {})}
        sock = free_socket()
        self.port = sock.getsockname()[1]
        sock.close()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start it and wait until it answers."""
        if self.portal:
            script = Path(sys.executable).with_name("smsd")
            argv = [str(script), "--db", str(self.db), "web", "--listen", f"127.0.0.1:{self.port}"]
        else:
            argv = [sys.executable, "-m", "smsd.integrations", "--db", str(self.db),
                    "--port", str(self.port)]  # fmt: skip
        self.proc = subprocess.Popen(argv, env=self.env)
        deadline = time.monotonic() + 30
        while True:
            try:
                url = self.base + "/api/v1/openapi.json"  # http://127.0.0.1 only
                with urllib.request.urlopen(url, timeout=2):  # noqa: S310
                    return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{argv[0]} did not start")
            time.sleep(0.05)  # a poll on a deadline

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait(timeout=10)

    def __enter__(self) -> WebProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
