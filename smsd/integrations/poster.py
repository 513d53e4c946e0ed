"""A lean HTTP/1.1 POST client for webhook delivery: asyncio streams + h11, keep-alive.

Why not httpx here: its connection pool re-scans every connection for every request, which
with dozens of deliveries in flight cost more CPU than the requests themselves (the benchmark
in benchmarks/integrations.py measured 150-440 events/s with it). This client does one thing:
POST a body, return the status, keep the connection for the next POST to the same origin.
TLS (https) verifies certificates with the system's trust store; redirects are not followed.

Errors: `PostError` (connection refused or reset, TLS failure, protocol error, timeout), one
line of text each; the deliverer records it and retries later.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import h11

__all__ = ["PostError", "Poster"]

_READ = 65536
_MAX_IDLE_PER_ORIGIN = 64


class PostError(Exception):
    """A POST that produced no HTTP status."""


@dataclass
class _Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    h11: h11.Connection = field(default_factory=lambda: h11.Connection(h11.CLIENT))

    def close(self) -> None:
        self.writer.close()


Origin = tuple[str, str, int]


def _origin(url: str) -> tuple[Origin, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PostError(f"not an http(s) URL: {url[:100]!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return (parts.scheme, parts.hostname, port), target


class Poster:
    """POSTs to any number of origins, reusing idle connections per origin."""

    def __init__(self, timeout: float, user_agent: str = "smsactive-webhooks/1") -> None:
        self.timeout = timeout
        self.user_agent = user_agent
        self._idle: dict[Origin, list[_Conn]] = {}
        self._tls: ssl.SSLContext | None = None

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """POST `body` to `url`; the response status (any), or `PostError`."""
        origin, target = _origin(url)
        try:
            async with asyncio.timeout(self.timeout):
                idle = self._idle.get(origin)
                if idle:
                    conn = idle.pop()
                    try:
                        return await self._exchange(conn, origin, target, body, headers)
                    except (OSError, h11.ProtocolError, asyncio.IncompleteReadError):
                        pass  # the server closed a kept-alive connection: use a fresh one
                conn = await self._connect(origin)
                return await self._exchange(conn, origin, target, body, headers)
        except TimeoutError as exc:
            raise PostError(f"timed out after {self.timeout:g} s") from exc
        except (OSError, h11.ProtocolError, asyncio.IncompleteReadError) as exc:
            raise PostError(f"{type(exc).__name__}: {exc}") from exc

    async def _connect(self, origin: Origin) -> _Conn:
        scheme, host, port = origin
        tls: ssl.SSLContext | None = None
        if scheme == "https":
            if self._tls is None:
                self._tls = ssl.create_default_context()
            tls = self._tls
        reader, writer = await asyncio.open_connection(host, port, ssl=tls, limit=_READ)
        return _Conn(reader, writer)

    async def _exchange(
        self, conn: _Conn, origin: Origin, target: str, body: bytes, headers: dict[str, str]
    ) -> int:
        try:
            status = await self._roundtrip(conn, origin, target, body, headers)
        except BaseException:
            conn.close()
            raise
        reusable = conn.h11.our_state is h11.DONE and conn.h11.their_state is h11.DONE
        if reusable and len(self._idle.setdefault(origin, [])) < _MAX_IDLE_PER_ORIGIN:
            conn.h11.start_next_cycle()
            self._idle[origin].append(conn)
        else:
            conn.close()
        return status

    async def _roundtrip(
        self, conn: _Conn, origin: Origin, target: str, body: bytes, headers: dict[str, str]
    ) -> int:
        _, host, port = origin
        fields = [("host", f"{host}:{port}"), ("user-agent", self.user_agent),
                  ("content-length", str(len(body))), *headers.items()]  # fmt: skip
        wire = conn.h11.send(h11.Request(method="POST", target=target, headers=fields))
        wire = (wire or b"") + (conn.h11.send(h11.Data(data=body)) or b"")
        wire += conn.h11.send(h11.EndOfMessage()) or b""
        conn.writer.write(wire)
        await conn.writer.drain()
        status = 0
        while True:
            event = conn.h11.next_event()
            if event is h11.NEED_DATA:
                data = await conn.reader.read(_READ)
                if not data and status == 0:
                    raise asyncio.IncompleteReadError(b"", None)
                conn.h11.receive_data(data)
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                return status

    async def aclose(self) -> None:
        """Close every idle connection."""
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
        self._idle.clear()
