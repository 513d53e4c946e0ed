"""Web portal pages at scale: p95 page time under 20 concurrent clients.

The database is benchmarks/scale.py's (1 M people, 1 k businesses, 10 M requests at scale 1;
cached under ``benchmarks/.cache/``). ``smsd web`` runs as a real subprocess (uvicorn, one
worker, as the unit runs it) on it; 20 client threads with keep-alive connections each GET, in
turn, a business dashboard, that business's caller history page and a person's history page,
each signed in with its own session (created in the store, as sign-in would, so argon2 is not
what is measured). Each client uses different businesses and people. ``--workers`` is
``[web] workers`` (default 2 here: one per core of the 2-core target box). Target: p95 <= 100 ms
per page.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.common import ROOT, Report, median, percentile, quiet_logs
from benchmarks.scale import Size, build, cache_path
from smsd.testing import wait_until
from store.store import Store

__all__ = ["main", "measure"]

PAGES = ("business dashboard", "business history page", "person history page")
TARGET_MS = 100


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _up(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/")
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


@contextmanager
def _server(db: Path, workers: int) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    port = _free_port()
    argv = [sys.executable, "-m", "cli", "--db", str(db), "web", "--listen", f"127.0.0.1:{port}"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SMSD_WEB_WORKERS": str(workers)}
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until(lambda: _up(port) or proc.poll() is not None, 60, "smsd web up")
        yield port, proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _sessions(store: Store, size: Size, clients: int) -> list[tuple[str, str]]:
    """(business cookie, person cookie) per client, spread over the data."""
    web = store.sessions
    now = datetime.now(UTC)
    pairs = []
    for i in range(clients):
        business = 1 + (i * 37) % size.businesses
        person = 1 + (i * 7919) % size.people
        pairs.append(
            (
                web.create("business", business, now=now)[0],
                web.create("person", person, now=now)[0],
            )
        )
    return pairs


def _client(
    port: int,
    cookies: tuple[str, str],
    rounds: int,
    times: dict[str, list[float]],
    lock: threading.Lock,
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    paths = (("/business", cookies[0]), ("/business/history", cookies[0]), ("/me", cookies[1]))
    mine: dict[str, list[float]] = {page: [] for page in PAGES}
    for _ in range(rounds):
        for page, (path, cookie) in zip(PAGES, paths, strict=True):
            started = time.perf_counter()
            conn.request("GET", path, headers={"Cookie": f"smsd_session={cookie}"})
            reply = conn.getresponse()
            reply.read()
            elapsed = (time.perf_counter() - started) * 1000
            if reply.status != 200:
                raise RuntimeError(f"{path}: HTTP {reply.status}")
            mine[page].append(elapsed)
    conn.close()
    with lock:
        for page, values in mine.items():
            times[page].extend(values)


def measure(scale: float, clients: int, rounds: int, workers: int) -> Report:
    """Build (or reuse) the scale database, serve it, and time the pages under load."""
    size = Size.scaled(scale)
    report = Report("web", quick=scale < 1)
    print(f"  database: {size} ({'cached' if cache_path(size).exists() else 'building'})")
    db, _, _ = build(size)
    store = Store.open(db)
    try:
        pairs = _sessions(store, size, clients)
        times: dict[str, list[float]] = {page: [] for page in PAGES}
        lock = threading.Lock()
        with _server(db, workers) as (port, _):
            # One warm-up round per client (the OS page cache, the server's first imports).
            warm: dict[str, list[float]] = {page: [] for page in PAGES}
            for pair in pairs:
                _client(port, pair, 1, warm, lock)
            threads = [
                threading.Thread(target=_client, args=(port, pair, rounds, times, lock))
                for pair in pairs
            ]
            started = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - started
    finally:
        store.db.conn.execute("DELETE FROM web_sessions")
        store.close()
    total = sum(len(v) for v in times.values())
    report.figures.update(size=size.__dict__, clients=clients, rounds=rounds, workers=workers,
                          pages=total,
                          pages_per_s=round(total / wall, 1))  # fmt: skip
    for page in PAGES:
        p95 = round(percentile(times[page], 95), 1)
        report.figures[page] = {"median_ms": round(median(times[page]), 1), "p95_ms": p95,
                                "max_ms": round(max(times[page]), 1)}  # fmt: skip
        print(f"    {page}: median {report.figures[page]['median_ms']} ms, p95 {p95} ms")
        label = f"{page} p95, {clients} clients, {workers} worker(s)"
        report.check(label, p95, "<=", TARGET_MS, "ms")
    return report


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.web [--quick] [--scale X] [--clients N] [--rounds N]``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="scale 0.01, 5 rounds")
    parser.add_argument("--scale", type=float, default=None, help="fraction of 1M/1k/10M")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients")
    parser.add_argument("--rounds", type=int, default=None, help="rounds of 3 pages per client")
    parser.add_argument("--workers", type=int, default=2, help="[web] workers (processes)")
    args, _ = parser.parse_known_args(argv)
    quiet_logs()
    scale = args.scale if args.scale is not None else (0.01 if args.quick else 1.0)
    rounds = args.rounds or (5 if args.quick else 20)
    print(f"web: portal pages at scale {scale}, {args.clients} clients, {args.workers} workers")
    measure(scale, args.clients, rounds, args.workers).save()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
