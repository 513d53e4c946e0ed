"""Gateway-wide stats from the roll-ups, on SQLite and on PostgreSQL, at the scale data set.

Builds (or reuses) the SQLite database of ``benchmarks.scale``, builds the roll-ups (timed:
a one-off rebuild with grouped queries), times ``smsd stats`` over all businesses for every
breakdown (median of runs, warm), then times folding new requests in (routing-sized batches).
With ``--postgresql`` the same database is copied into a throwaway PostgreSQL cluster
(``smsd/testing/pgcluster.py``; ``smsd db copy``'s code, timed) and measured the same way.
Target: <= 50 ms per breakdown.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime

from benchmarks.common import Report, median, quiet_logs
from benchmarks.scale import Size, build
from store.business_view import DIMENSIONS
from store.store import Store
from store.transfer import copy_store

__all__ = ["main", "measure"]

FOLD_BATCH = 1000


def _measure_store(store: Store, report: Report, label: str, runs: int) -> None:
    started = time.perf_counter()
    store.rollups.rebuild()
    report.figures[f"{label}_rollup_build_s"] = round(time.perf_counter() - started, 1)
    for by in DIMENSIONS:
        times = []
        for _ in range(runs + 1):
            t0 = time.perf_counter()
            store.stats.breakdown(by, min_people=5)
            times.append((time.perf_counter() - t0) * 1000)
        ms = round(median(times[1:]), 2)
        print(f"    {label}: stats by {by}, all businesses: {ms} ms")
        report.check(f"{label} stats by {by}, all businesses", ms, "<=", 50, "ms")
    _measure_fold(store, report, label)


class _Undo(Exception):
    """Raised to roll the fold measurement back: the cached database stays as built."""


def _measure_fold(store: Store, report: Report, label: str) -> None:
    """Fold FOLD_BATCH fresh requests (existing people and codes), timed, then roll back."""
    at = datetime(2026, 1, 1, tzinfo=UTC).isoformat(timespec="microseconds")
    try:
        with store.transaction() as db:
            for n in range(FOLD_BATCH):
                db.execute(
                    "INSERT INTO requests (person_id, business_id, code_id, at)"
                    " VALUES (?, ?, ?, ?)",
                    (n * 7919 % 1000 + 1, n % 10 + 1, (n % 10) * 3 + 1, at),
                )
            t0 = time.perf_counter()
            folded = store.rollups.fold()
            ms = round((time.perf_counter() - t0) * 1000, 1)
            raise _Undo
    except _Undo:
        pass
    print(f"    {label}: fold of {folded} new requests: {ms} ms")
    report.figures[f"{label}_fold_{FOLD_BATCH}_ms"] = ms


def measure(scale: float, runs: int, postgresql: bool) -> Report:
    """Time the roll-up build, every gateway-wide breakdown and a fold, per backend."""
    size = Size.scaled(scale)
    report = Report("gateway_stats", quick=scale < 1)
    db, _, _ = build(size)
    report.figures["size"] = size.__dict__
    with Store.open(db) as store:
        _measure_store(store, report, "sqlite", runs)
        if postgresql:
            from smsd.testing.pgcluster import PgCluster

            cluster = PgCluster()
            cluster.start()
            try:
                with Store.open(cluster.fresh_url()) as pg:
                    t0 = time.perf_counter()
                    copy_store(store, pg)
                    report.figures["postgresql_copy_s"] = round(time.perf_counter() - t0, 1)
                    _measure_store(pg, report, "postgresql", runs)
            finally:
                cluster.stop()
    return report


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.gateway_stats [--scale X] [--runs N] [--postgresql]``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="scale 0.01 and 3 runs")
    parser.add_argument("--scale", type=float, default=None, help="fraction of 1M/1k/10M")
    parser.add_argument("--runs", type=int, default=None, help="timed runs per breakdown")
    parser.add_argument("--postgresql", action="store_true", help="also on PostgreSQL")
    args, _ = parser.parse_known_args(argv)
    quiet_logs()
    scale = args.scale if args.scale is not None else (0.01 if args.quick else 1.0)
    measure(scale, args.runs or (3 if args.quick else 5), args.postgresql).save()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
