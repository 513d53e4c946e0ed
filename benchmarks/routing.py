"""Routing + store in process (no modem): the store work of the daemon's ingest, per batch.

Exactly what the daemon does per burst (`smsd.ingest.Ingest.take_stored`, after decoding the
PDUs): ONE transaction (``smsd.pipeline.Pipeline.burst``) that releases the keys of the
copies the previous burst deleted, records the burst (``Store.inbox.record_and_read``: the
rows come back from the INSERT) and routes it set-based (``smsd.burst``); then the SIM
copies are deleted (AT+CMGD, no store work) and their keys are held for the next burst's
transaction. The last burst's keys are released in a small transaction of their own, as an
idle daemon does, inside the timing: one fsync'd commit per burst, plus one at the end.
Measured with batches of 1 (a lone ``+CMTI``: the per-message figure) and of 20 and 50 (a
sweep of a full SIM, or +CMTI that queued up: the per-burst figures). The database is a real
file with the product's settings (WAL, ``synchronous=FULL``); logging is configured as the
daemon does (JSON, info) into /dev/null. The traffic mix: 70 % codes from returning people,
20 % first contacts, 5 % HELP, 5 % unknown words. A cProfile of a shorter run shows where
time goes.

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
from smsd.pipeline import Pipeline
from smsd.releases import DeletedCopies
from smsd.settings import Rules
from store import IncomingDraft
from store.store import Store

__all__ = ["main", "measure"]

BUSINESSES = 20
CODES_PER_BUSINESS = 5
BATCHES = (1, 20, 50)  # a lone +CMTI; a sweep of a 20-slot SIM; of a 50-slot one
LABELS = {
    1: "per message (+CMTI, batch 1)",
    20: "per burst (sweep, batch 20)",
    50: "per burst (sweep, batch 50)",
}


@contextmanager
def daemon_logging() -> Iterator[None]:
    """structlog set up as the daemon sets it up (JSON, info), writing to /dev/null."""
    from smsd.logs import configure_logging

    saved = sys.stderr
    with open(os.devnull, "w") as sink:
        sys.stderr = sink  # the daemon's logger writes to the sys.stderr of the moment
        try:
            configure_logging("info", "json")
            yield
        finally:
            sys.stderr = saved
    from benchmarks.common import quiet_logs

    quiet_logs()


def _setup(path: Path, returning: int) -> tuple[Store, list[str]]:
    store = Store.open(path)
    keywords = []
    now = datetime.now(UTC)
    for b in range(BUSINESSES):
        store.directory.add_business(f"Business {b}")
        for c in range(CODES_PER_BUSINESS):
            keyword = f"CODE{b}X{c}"
            store.directory.add_code(
                f"Business {b}", keyword, f"Thanks from business {b}, {{user_code}}"
            )
            keywords.append(keyword)
    with store.transaction():
        for i in range(returning):
            store.directory.create_person(handset(i + 1), now)
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


def _run(store: Store, traffic: list[tuple[str, str]], batch: int) -> float:
    """Seconds for the daemon's store work on `traffic`, taken `batch` messages at a time."""
    pipeline = Pipeline(store, Rules())
    held: tuple[DeletedCopies, ...] = ()  # deleted by the previous burst, keys not released
    started = time.perf_counter()
    for first in range(0, len(traffic), batch):
        now = datetime.now(UTC)
        drafts = [
            IncomingDraft(sender, "international", text, now, scts=now, modem="modem0",
                          storage="SM", storage_index=slot)
            for slot, (sender, text) in enumerate(traffic[first : first + batch])
        ]  # fmt: skip
        with pipeline.burst(held) as burst:  # release the held keys, record, route: one commit
            stored = store.inbox.record_and_read(drafts)  # as `smsd.ingest` records a burst
            burst.route([m.id for m in stored if m], {m.id: m for m in stored if m})
        assert len(burst.routed.processed) == len(drafts)
        # (here the daemon deletes each copy from the SIM: AT+CMGD, no store work)
        held = (DeletedCopies("modem0", "SM", tuple(d.storage_index for d in drafts)),)
    with pipeline.burst(held):
        pass  # no burst follows: the idle daemon releases the last keys on their own
    return time.perf_counter() - started


def _rate(path: Path, count: int, returning: int, batch: int, *, sync: str = "FULL") -> float:
    store, keywords = _setup(path, returning)
    if sync != "FULL":  # a diagnostic only: the product always runs FULL
        store.db.conn.execute(f"PRAGMA synchronous = {sync}")
    try:
        return count / _run(store, _traffic(count, returning, keywords), batch)
    finally:
        store.close()


def measure(count: int, rounds: int, profile_count: int) -> Report:
    """For each batch size, ``rounds`` runs of ``count`` messages on fresh databases; then
    a diagnostic with ``synchronous = NORMAL`` and a profiled run of the largest batch."""
    report = Report("routing", quick=count < 5000)
    returning = max(count // 4, 100)
    per_batch: dict[str, object] = {}
    with scratch_dir("routing") as tmp, daemon_logging():
        for batch in BATCHES:
            rates = [
                _rate(tmp / f"b{batch}r{r}.db", count, returning, batch) for r in range(rounds)
            ]
            nosync = _rate(tmp / f"b{batch}n.db", count, returning, batch, sync="NORMAL")
            per_batch[str(batch)] = {
                "rounds": [round(x, 1) for x in rates],
                "median_per_s": round(median(rates), 1),
                "diagnostic_synchronous_normal_per_s": round(nosync, 1),
            }
        store, keywords = _setup(tmp / "profile.db", returning)
        profiler = cProfile.Profile()
        profiler.enable()
        _run(store, _traffic(profile_count, returning, keywords), BATCHES[-1])
        profiler.disable()
        store.close()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(25)
    tottime = io.StringIO()
    pstats.Stats(profiler, stream=tottime).sort_stats("tottime").print_stats(15)
    report.figures.update(
        messages_per_round=count,
        batches=per_batch,
        profile_batch=BATCHES[-1],
        profile_cumulative=_trim(text.getvalue()),
        profile_tottime=_trim(tottime.getvalue()),
    )
    for batch in BATCHES:
        figure = per_batch[str(batch)]
        assert isinstance(figure, dict)
        label = f"route + store, messages/s {LABELS[batch]}"
        report.check(label, figure["median_per_s"], ">=", 10_000, "/s")
    return report


def _trim(text: str) -> list[str]:
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip().startswith("ncalls")), 0)
    return [line.rstrip() for line in lines[start:] if line.strip()]


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.routing [--quick]``."""
    args = parse_args(argv, __doc__ or "")
    print("routing: Pipeline.burst (release held keys + record + route: one commit), in process")
    report = measure(1000, 1, 500) if args.quick else measure(5000, 3, 2000)
    report.save()
    for line in report.figures["profile_tottime"][:14]:
        print("   ", line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
