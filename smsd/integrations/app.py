"""Putting the API, `/metrics` and the webhook deliverer together.

`Integrations` is what a host application mounts: `routes()` (the `/api/v1` sub-application
and `/metrics`) and either `task` (a background coroutine, as `smsd.web.app.create_app(ctx,
groups=..., tasks=...)` takes them) or `running()` (an async context manager) for the
deliverer. `create_app` is a small stand-alone app of its own, used by the tests and by
`python -m smsd.integrations` until the portal's `smsd web` mounts these routes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import structlog
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route

from smsd.config import Config
from smsd.integrations.api import Api
from smsd.integrations.delivery import Deliverer
from smsd.integrations.metrics import metrics_response, registry_for
from smsd.integrations.settings import IntegrationSettings, Policy, delivery_settings
from store.store import Store

__all__ = ["Integrations", "create_app", "serve"]

log = structlog.get_logger(__name__)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Integrations:
    """The API, metrics and deliverer over one open `Store`."""

    def __init__(
        self,
        store: Store,
        *,
        policy: Policy | None = None,
        settings: IntegrationSettings | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.store = store
        self.api = Api(store, policy, clock=clock)
        self.registry = registry_for(store)
        self.deliverer = Deliverer(store, settings, clock=clock)

    @classmethod
    def from_config(cls, store: Store, config: Config) -> Integrations:
        """As `smsd web` builds it: the config's policy, [webhooks] then `SMSD_WEBHOOKS_*`."""
        settings = delivery_settings(config)
        return cls(store, policy=Policy.from_config(config), settings=settings)

    def routes(self) -> list[BaseRoute]:
        """`/api/v1/...` (a sub-application with its own problem documents) and `/metrics`."""
        return [
            Mount("/api/v1", app=self.api.app()),
            Route("/metrics", metrics_response(self.registry), methods=["GET"]),
        ]

    async def task(self, _context: object = None) -> None:
        """The deliverer as a host app's background task (runs until cancelled).

        Cancelled mid-attempt, the attempts in flight stay pending and are sent again by the
        next process (at least once).
        """
        await self.deliverer.run(asyncio.Event())

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Deliverer]:
        """Run the deliverer while the block runs; stop it (finishing attempts) after."""
        stop = asyncio.Event()
        task = asyncio.create_task(self.deliverer.run(stop))
        try:
            yield self.deliverer
        finally:
            stop.set()
            try:
                await asyncio.wait_for(task, self.deliverer.settings.timeout_s + 5)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
            except Exception:
                log.exception("webhook_deliverer_crashed")


def create_app(
    db: str,
    *,
    policy: Policy | None = None,
    settings: IntegrationSettings | None = None,
    deliver: bool = True,
) -> Starlette:
    """A stand-alone app: the integrations' routes, the deliverer when `deliver`."""
    store = Store.open(db)
    parts = Integrations(store, policy=policy, settings=settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            if deliver:
                async with parts.running():
                    yield
            else:
                yield
        finally:
            store.close()

    app = Starlette(routes=parts.routes(), lifespan=lifespan)
    app.state.integrations = parts
    return app


def serve(app: Starlette, host: str, port: int) -> None:
    """Serve `app` with uvicorn until SIGTERM/SIGINT (blocking)."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
