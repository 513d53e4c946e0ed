"""Running the portal: `serve(config, db_path)` opens the store and runs uvicorn.

The database is the daemon's (SQLite in WAL mode: the web server's reads never block the
daemon's writes). `--listen HOST:PORT` or `[web] listen`; behind a TLS reverse proxy set
`[web] proxy_headers = true` so the client address and the https scheme come from the proxy.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import structlog
import uvicorn

from smsd.config import Config
from smsd.errors import ConfigError
from smsd.web.app import create_app
from smsd.web.context import WebContext
from store.store import Store

__all__ = ["parse_listen", "serve", "web_context"]

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
        limits=config.limits,
        gateway_name=config.gateway.name,
        default_region=config.gateway.default_region,
        local_tz=datetime.now().astimezone().tzinfo or UTC,
    )


def serve(config: Config, db: str | Path, listen: str | None = None) -> None:
    """Serve the portal until SIGINT/SIGTERM (uvicorn handles both)."""
    host, port = parse_listen(listen or config.web.listen)
    ctx = web_context(config, db)
    try:
        app = create_app(ctx)
        log.info("web_listening", host=host, port=port)
        uvicorn.run(
            app,
            host=host,
            port=port,
            proxy_headers=config.web.proxy_headers,
            forwarded_allow_ips="127.0.0.1,::1" if config.web.proxy_headers else None,
            server_header=False,
            log_config=None,
            access_log=False,
        )
    finally:
        ctx.store.close()
