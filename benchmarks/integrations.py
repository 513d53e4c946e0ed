"""Integrations: webhook delivery rate, and the API's history page on the scale database.

Webhooks: N events (an operator webhook subscribed) are written in one transaction, then the
product's `Deliverer` (in this process, its own asyncio loop) delivers them to a receiver in
its own interpreter (uvicorn, 127.0.0.1, answering 204); the figure is events delivered per
second, from the deliverer's start to the last outcome committed. Target >= 500/s.

API: `python -m smsd.integrations --no-deliver` in its own interpreter over the cached scale
database of `benchmarks.scale` (10 M requests; `--scale` shrinks it), a business token per
business asked; an httpx client with keep-alive fetches the latest page (100 rows) of random
businesses and the page after it (by cursor); the figure is the p95 of wall time per request,
client included. Target <= 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from benchmarks.common import ROOT, Report, median, percentile, quiet_logs, scratch_dir
from benchmarks.scale import Size, build
from smsd.integrations.delivery import Deliverer
from smsd.integrations.settings import IntegrationSettings
from store.events import Events, emit
from store.store import Store

__all__ = ["main", "receiver_main"]

_RECEIVER = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})
"""


def receiver_main(port: int) -> None:
    """A minimal ASGI receiver under uvicorn (run in its own interpreter)."""
    import uvicorn

    scope: dict[str, object] = {}
    exec(_RECEIVER, scope)  # noqa: S102 - constant code above
    uvicorn.run(scope["app"], host="127.0.0.1", port=port, log_level="error", access_log=False)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)  # a poll on a deadline


def webhook_rate(tmp: Path, events: int, report: Report) -> None:
    """Deliver `events` events to a local receiver; record events/s."""
    port = _free_port()
    code = f"from benchmarks.integrations import receiver_main; receiver_main({port})"
    argv = [sys.executable, "-c", code]
    receiver = subprocess.Popen(argv, cwd=ROOT)
    try:
        _wait_http(f"http://127.0.0.1:{port}/")
        with Store.open(tmp / "hooks.db") as store:
            store.webhooks.add(None, f"http://127.0.0.1:{port}/hook", now=datetime.now(UTC))
            with store.transaction():
                for i in range(events):
                    emit(store, "balance.low", None, {"modem": "modem0", "n": i})
            deliverer = Deliverer(store, IntegrationSettings(poll_s=0.01))
            elapsed = asyncio.run(_drain(deliverer, store.events))
            backlog = store.events.backlog()
        rate = events / elapsed
        report.figures["webhook"] = {
            "events": events, "seconds": round(elapsed, 3), "per_s": round(rate, 1),
            "loop_turns": deliverer.stats.turns, "failed_attempts": deliverer.stats.failed_attempts,
            "left_pending": backlog.pending,
        }  # fmt: skip
        report.check("webhook delivery to a local receiver", rate, ">=", 500, "events/s")
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)


async def _drain(deliverer: Deliverer, events: Events) -> float:
    stop = asyncio.Event()
    started = time.perf_counter()
    task = asyncio.create_task(deliverer.run(stop))
    while True:
        await asyncio.sleep(0.02)  # poll the backlog on the benchmark's own clock
        if (await asyncio.to_thread(events.backlog)).pending == 0:
            break
    elapsed = time.perf_counter() - started
    stop.set()
    await task
    return elapsed


def history_p95(scale: float, requests: int, report: Report) -> None:
    """Time `requests` API history pages on the scale database."""
    db, _, _ = build(Size.scaled(scale))
    rng = random.Random(15)
    with Store.open(db) as store:
        count = len(store.directory.list_businesses())
        picks = [rng.randrange(1, count + 1) for _ in range(requests // 2)]
        tokens = store.tokens
        secrets = {b: tokens.create(b, "read", now=datetime.now(UTC))[1] for b in set(picks)}
    port = _free_port()
    argv = [sys.executable, "-m", "smsd.integrations", "--db", str(db), "--port", str(port),
            "--no-deliver"]  # fmt: skip
    server = subprocess.Popen(argv, cwd=ROOT, env=dict(os.environ))
    times: list[float] = []
    try:
        base = f"http://127.0.0.1:{port}/api/v1"
        _wait_http(base + "/openapi.json")
        with httpx.Client(timeout=30) as client:
            for business in picks:
                headers = {"Authorization": f"Bearer {secrets[business]}"}
                url = f"{base}/businesses/{business}/history"
                started = time.perf_counter()
                first = client.get(url, headers=headers, params={"limit": 100})
                times.append(time.perf_counter() - started)
                cursor = first.json()["next_cursor"]
                started = time.perf_counter()
                client.get(url, headers=headers, params={"limit": 100, "cursor": cursor})
                times.append(time.perf_counter() - started)
                assert first.status_code == 200 and len(first.json()["items"]) == 100
    finally:
        server.terminate()
        server.wait(timeout=10)
    ms = [t * 1000 for t in times]
    report.figures["history"] = {
        "database": db.name, "requests": len(ms), "median_ms": round(median(ms), 2),
        "p95_ms": round(percentile(ms, 95), 2), "max_ms": round(max(ms), 2),
    }  # fmt: skip
    report.check("API history page p95 (100 rows, HTTP)", percentile(ms, 95), "<=", 50, "ms")


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.integrations [--quick] [--scale X] [--events N]``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="scale 0.01, 1,000 events")
    parser.add_argument("--scale", type=float, default=None, help="fraction of 1M/1k/10M")
    parser.add_argument("--events", type=int, default=None)
    args, _ = parser.parse_known_args(argv)
    quiet_logs()
    scale = args.scale if args.scale is not None else (0.01 if args.quick else 1.0)
    events = args.events or (1000 if args.quick else 5000)
    report = Report("integrations", quick=args.quick)
    with scratch_dir("integrations") as tmp:
        print(f"  webhooks: {events} events to a local receiver")
        webhook_rate(tmp, events, report)
    print(f"  API history pages on the scale database (scale {scale})")
    history_p95(scale, 40 if args.quick else 400, report)
    report.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
