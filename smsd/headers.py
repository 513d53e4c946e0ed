"""One ASGI middleware that adds security headers to every HTTP response.

A leaf (Starlette's types only): the portal (`smsd.web.app`) and the HTTP API
(`smsd.integrations.api`) each pass their own header set. A header the route already set is
left as it is; `hsts=True` adds Strict-Transport-Security over TLS.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["Headers", "SecurityHeaders"]

Headers = Sequence[tuple[bytes, bytes]]

_HSTS = (b"strict-transport-security", b"max-age=31536000")


class SecurityHeaders:
    """ASGI middleware: ``headers`` on every HTTP response (HSTS over TLS when ``hsts``)."""

    def __init__(self, app: ASGIApp, headers: Headers, *, hsts: bool = False) -> None:
        self.app = app
        self.headers = tuple(headers)
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tls = self.hsts and scope.get("scheme") == "https"
        wanted = (*self.headers, _HSTS) if tls else self.headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                added = [(k, v) for k, v in wanted if k not in names]
                message["headers"] = [*message.get("headers", []), *added]
            await send(message)

        await self.app(scope, receive, send_with_headers)
