"""The web server's app factory: route groups, security headers, background tasks.

`create_app(ctx, groups=..., tasks=...)` mounts the portal pages and any further route groups
(the HTTP API under `/api/v1`, `/metrics`) on one Starlette app, sends the security headers
on every response, and runs each background task for the app's lifetime (cancelled at
shutdown). The app's `state.web` is the shared `WebContext`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from datetime import timedelta
from pathlib import Path

import structlog
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from smsd.headers import SecurityHeaders
from smsd.web.context import WebContext
from smsd.web.routes import portal_routes

__all__ = ["SECURITY_HEADERS", "BackgroundTask", "create_app", "purge_task"]

log = structlog.get_logger(__name__)

#: A coroutine run for the app's lifetime, given the shared context.
BackgroundTask = Callable[[WebContext], Coroutine[object, object, None]]

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self';"
        b" frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
)


async def purge_task(ctx: WebContext) -> None:
    """Every ten minutes, delete expired sessions and stale throttle rows."""
    while True:
        gone = await run_in_threadpool(
            ctx.store.sessions.purge, now=ctx.clock(), idle=ctx.idle, absolute=ctx.absolute
        )
        if gone:
            log.info("web_sessions_purged", count=gone)
        await asyncio.sleep(timedelta(minutes=10).total_seconds())


def create_app(
    ctx: WebContext,
    *,
    groups: Sequence[BaseRoute] = (),
    tasks: Sequence[BackgroundTask] = (purge_task,),
    portal: bool = True,
) -> Starlette:
    """The ASGI app: the portal (unless `portal=False`), then `groups`, running `tasks`."""
    routes: list[BaseRoute] = []
    if portal:
        routes += portal_routes()
        static = Path(__file__).with_name("static")
        routes.append(Mount("/static", app=StaticFiles(directory=static), name="static"))
    routes += list(groups)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        running: list[asyncio.Task[None]] = [asyncio.create_task(task(ctx)) for task in tasks]
        log.info("web_started", tasks=len(running))
        try:
            yield
        finally:
            for job in running:
                job.cancel()
            for job in running:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await job

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.web = ctx
    app.add_middleware(SecurityHeaders, headers=SECURITY_HEADERS, hsts=True)
    return app
