"""The app factory: further route groups mount beside the portal, background tasks run for
the app's lifetime, the security headers cover every group."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from smsd.web.app import create_app
from smsd.web.charts import bar_chart
from smsd.web.context import WebContext
from store.store import Store


def test_groups_mount_beside_the_portal_and_tasks_run_until_shutdown(tmp_path: Path) -> None:
    """An /api/v1 group answers with the security headers; a task starts and is cancelled."""
    events: list[str] = []

    async def ping(request: Request) -> JSONResponse:
        ctx: WebContext = request.app.state.web
        return JSONResponse({"businesses": len(ctx.store.directory.list_businesses())})

    async def task(ctx: WebContext) -> None:
        events.append("started")
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            events.append("cancelled")
            raise

    store = Store.open(tmp_path / "app.db")
    store.directory.add_business("Pizza Place")
    app = create_app(
        WebContext(store=store), groups=[Mount("/api/v1", routes=[Route("/ping", ping)])],
        tasks=[task],
    )  # fmt: skip
    with TestClient(app) as client:
        reply = client.get("/api/v1/ping")
        assert reply.json() == {"businesses": 1}
        assert "frame-ancestors 'none'" in reply.headers["content-security-policy"]
        assert client.get("/").status_code == 200
        assert events == ["started"]
    store.close()
    assert events == ["started", "cancelled"]


def test_portal_can_be_left_out(tmp_path: Path) -> None:
    """`portal=False` serves only the given groups (an API-only server)."""
    store = Store.open(tmp_path / "app.db")
    with TestClient(create_app(WebContext(store=store), portal=False, tasks=())) as client:
        assert client.get("/").status_code == 404
    store.close()


def test_chart_escapes_labels_and_scales_bars() -> None:
    """Labels are escaped inside the SVG; the tallest bar has the full height."""
    svg = str(bar_chart("<t>", [("<b>", 2), ("x", 4)]))
    assert "<b>" not in svg and "&lt;b&gt;" in svg and "<title>&lt;t&gt;</title>" in svg
    heights = [float(h) for h in re.findall(r'height="([\d.]+)"', svg)]
    assert heights == [88.0, 176.0]
    assert "no data" in str(bar_chart("empty", []))
