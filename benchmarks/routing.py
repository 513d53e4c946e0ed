"""Routing + store in process (no modem): ``record_incoming`` then ``process_incoming``.

This is exactly what the daemon does per message after decoding the PDU: one transaction to
store it, one to load state, route, apply and queue the replies. The database is a real file
with the product's settings (WAL, ``synchronous=FULL``); logging is configured as the daemon
does (JSON, info) into /dev/null. The traffic mix: 70 % codes from returning people, 20 % first
contacts, 5 % HELP, 5 % unknown words. A cProfile of a shorter run shows where time goes.

Target: >= 10,000 messages/s.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import random
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.common import Report, handset, median, parse_args, scratch_dir
from smsd.pipeline import process_incoming
from smsd.router import Rules
from store.store import Store

__all__ = ["main", "measure"]

BUSINESSES = 20
CODES_PER_BUSINESS = 5


@contextmanager
def daemon_logging() -> Iterator[None]:
    """structlog set up as the daemon sets it up (JSON, info), writing to /dev/null."""
    from smsd.logs import configure_logging

    saved = sys.stderr
    with open(os.devnull, "w") as sink:
        sys.stderr = sink
        try:
            configure_logging("info", "json")
        finally:
            sys.stderr = saved
        yield
    from benchmarks.common import quiet_logs

    quiet_logs()


def _setup(path: Path, returning: int) -> tuple[Store, list[str]]:
    store = Store.open(path)
    keywords = []
    now = datetime.now(UTC)
    for b in range(BUSINESSES):
        store.add_business(f"Business {b}")
        for c in range(CODES_PER_BUSINESS):
            keyword = f"CODE{b}X{c}"
            store.add_code(f"Business {b}", keyword, f"Thanks from business {b}, {{user_code}}")
            keywords.append(keyword)
    with store.transaction():
        for i in range(returning):
            store.create_person(handset(i + 1), now)
    return store, keywords


def _traffic(count: int, returning: int, keywords: list[str]) -> list[tuple[str, str]]:
    rng = random.Random(7)
    out = []
    fresh = returning + 1
    for _ in range(count):
        roll = rng.random()
        if roll < 0.2:
            fresh += 1
            out.append((handset(fresh), rng.choice(keywords).lower()))
        elif roll < 0.25:
            out.append((handset(rng.randrange(1, returning + 1)), "HELP"))
        elif roll < 0.3:
            out.append((handset(rng.randrange(1, returning + 1)), "what is this"))
        else:
            out.append((handset(rng.randrange(1, returning + 1)), rng.choice(keywords)))
    return out


def _run(store: Store, traffic: list[tuple[str, str]]) -> float:
    rules = Rules()
    started = time.perf_counter()
    for sender, text in traffic:
        now = datetime.now(UTC)
        incoming_id = store.record_incoming(
            sender=sender, sender_type="international", text=text, received_at=now, scts=now
        )
        assert incoming_id is not None
        process_incoming(store, incoming_id, now, rules)
    return time.perf_counter() - started


def measure(count: int, rounds: int, profile_count: int) -> Report:
    """``rounds`` runs of ``count`` messages each, on fresh databases; then a profiled run."""
    report = Report("routing", quick=count < 5000)
    returning = max(count // 4, 100)
    rates = []
    with scratch_dir("routing") as tmp, daemon_logging():
        for r in range(rounds):
            store, keywords = _setup(tmp / f"r{r}.db", returning)
            elapsed = _run(store, _traffic(count, returning, keywords))
            rates.append(count / elapsed)
            store.close()
        # Diagnostic, not the product's setting: how much of the time is the fsync per commit.
        store, keywords = _setup(tmp / "nosync.db", returning)
        store.db.conn.execute("PRAGMA synchronous = NORMAL")
        nosync = count / _run(store, _traffic(count, returning, keywords))
        store.close()
        store, keywords = _setup(tmp / "profile.db", returning)
        profiler = cProfile.Profile()
        profiler.enable()
        _run(store, _traffic(profile_count, returning, keywords))
        profiler.disable()
        store.close()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("cumulative").print_stats(25)
    tottime = io.StringIO()
    pstats.Stats(profiler, stream=tottime).sort_stats("tottime").print_stats(15)
    report.figures.update(
        messages_per_round=count,
        rounds=[round(x, 1) for x in rates],
        median_per_s=round(median(rates), 1),
        diagnostic_synchronous_normal_per_s=round(nosync, 1),
        profile_cumulative=_trim(text.getvalue()),
        profile_tottime=_trim(tottime.getvalue()),
    )
    report.check("route + store, messages/s", report.figures["median_per_s"], ">=", 10_000, "/s")
    return report


def _trim(text: str) -> list[str]:
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip().startswith("ncalls")), 0)
    return [line.rstrip() for line in lines[start:] if line.strip()]


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.routing [--quick]``."""
    args = parse_args(argv, __doc__ or "")
    print("routing: record_incoming + process_incoming, in process")
    report = measure(1000, 1, 500) if args.quick else measure(5000, 3, 2000)
    report.save()
    for line in report.figures["profile_tottime"][:14]:
        print("   ", line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
