"""Running the portal: `serve(config, db_path)` opens the store and runs uvicorn.

The database is the daemon's (SQLite in WAL mode: the web server's reads never block the
daemon's writes). `--listen HOST:PORT` or `[web] listen`; behind a TLS reverse proxy set
`[web] proxy_headers = true` so the client address and the https scheme come from the proxy.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
import uvicorn
from starlette.applications import Starlette

from smsd.config import Config, load_config
from smsd.errors import ConfigError
from smsd.integrations.app import Integrations
from smsd.web.app import create_app, purge_task
from smsd.web.context import WebContext
from store.store import Store

__all__ = ["app_from_env", "full_app", "parse_listen", "serve", "web_context"]

_DB_ENV = "SMSD_WEB_DB"

log = structlog.get_logger(__name__)


def parse_listen(value: str) -> tuple[str, int]:
    """'HOST:PORT' (or '[v6]:PORT') as (host, port); `ConfigError` otherwise."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536 or not host:
        raise ConfigError(f"web.listen: expected HOST:PORT, got {value!r}")
    return host.strip("[]"), int(port)


def web_context(config: Config, db: str | Path) -> WebContext:
    """Open the store and gather what the pages need from the configuration."""
    store = Store.open(db, busy_timeout_ms=config.database.busy_timeout_ms)
    return WebContext(
        store=store,
        web=config.web,
        broadcast=config.broadcast_policy(),
        billing=config.billing,
        gateway_name=config.gateway.name,
        default_region=config.gateway.default_region,
        local_tz=datetime.now().astimezone().tzinfo or UTC,
    )


def full_app(ctx: WebContext, config: Config) -> Starlette:
    """The portal with the HTTP API (`/api/v1`), `/metrics` and the webhook deliverer mounted
    (issue 15, `smsd.integrations`); with several workers, one of them delivers (a lease)."""
    parts = Integrations.from_config(ctx.store, config)
    return create_app(ctx, groups=parts.routes(), tasks=(purge_task, parts.task))


def app_from_env() -> Starlette:
    """The app of one worker process: config from `$SMSD_CONFIG`, database `$SMSD_WEB_DB`."""
    config = load_config()
    return full_app(web_context(config, os.environ.get(_DB_ENV) or config.database_path), config)


def serve(
    config: Config,
    db: str | Path,
    listen: str | None = None,
    config_path: str | None = None,
) -> None:
    """Serve the portal until SIGINT/SIGTERM (uvicorn handles both).

    With `[web] workers` > 1, uvicorn starts that many processes, each building its own app
    (and database connection) through `app_from_env`.
    """
    host, port = parse_listen(listen or config.web.listen)
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "proxy_headers": config.web.proxy_headers,
        "forwarded_allow_ips": "127.0.0.1,::1" if config.web.proxy_headers else None,
        "server_header": False,
        "log_config": None,
        "access_log": False,
    }
    log.info("web_listening", host=host, port=port, workers=config.web.workers)
    if config.web.workers > 1:
        os.environ[_DB_ENV] = str(db)
        if config_path is not None:
            os.environ["SMSD_CONFIG"] = config_path
        uvicorn.run(f"{__name__}:app_from_env", factory=True, workers=config.web.workers, **options)
        return
    ctx = web_context(config, db)
    try:
        uvicorn.run(full_app(ctx, config), **options)
    finally:
        ctx.store.close()
