"""Routing + store on PostgreSQL: `benchmarks.routing`'s daemon store work, on a local server.

The same traffic, batches and calls as ``benchmarks.routing``: the daemon's real flow, one
transaction per burst (release the previous burst's deleted copies' keys, record, route;
the last keys released on their own at the end), against a throwaway PostgreSQL 15 cluster
on this machine (``smsd/testing/pgcluster.py``) with production durability: fsync and synchronous
commit on. Each write transaction takes the store's advisory lock, as on a shared store.
Beside each rate: our process's CPU and the server backend's CPU per burst (from /proc): the
two run one after the other (the burst waits on each round trip), so their sum is most of the
wall time, and they show which side a change made cheaper.

Target: >= 2,000 messages/s per burst.
"""

from __future__ import annotations

import os
import sys

from benchmarks.common import Report, cpu_seconds, median, parse_args
from benchmarks.routing import BATCHES, LABELS, _run, _setup, _traffic, daemon_logging
from store.store import Store

__all__ = ["main", "measure"]


def _timed(store: Store, traffic: list[tuple[str, str]], batch: int) -> tuple[float, float, float]:
    """(seconds, our CPU seconds, the server backend's CPU seconds) for `_run`."""
    from store.postgres import PgDatabase

    assert isinstance(store.db, PgDatabase)
    pid = store.db.backend_pid
    me = os.getpid()
    ours, theirs = cpu_seconds(me), cpu_seconds(pid)
    seconds = _run(store, traffic, batch)
    return seconds, cpu_seconds(me) - ours, cpu_seconds(pid) - theirs


def measure(count: int, rounds: int) -> Report:
    """For each batch size, ``rounds`` runs of ``count`` messages, each in a fresh schema."""
    from smsd.testing.pgcluster import PgCluster

    report = Report("routing_pg", quick=count < 5000)
    returning = max(count // 4, 100)
    cluster = PgCluster(durable=True)
    cluster.start()
    try:
        with daemon_logging():
            for batch in BATCHES:
                rates, python, server = [], [], []
                bursts = -(-count // batch)
                for _ in range(rounds):
                    store, keywords = _setup(cluster.fresh_url(), returning)  # type: ignore[arg-type]
                    try:
                        seconds, ours, theirs = _timed(
                            store, _traffic(count, returning, keywords), batch
                        )
                    finally:
                        store.close()
                    rates.append(count / seconds)
                    python.append(ours / bursts * 1000)
                    server.append(theirs / bursts * 1000)
                rate = round(median(rates))
                split = {"python_cpu_ms": round(median(python), 2),
                         "server_cpu_ms": round(median(server), 2)}  # fmt: skip
                report.figures[f"{LABELS[batch]}, CPU per burst"] = split
                print(f"  {LABELS[batch]}: {rate} msg/s (rounds {[round(r) for r in rates]});"
                      f" per burst: our CPU {split['python_cpu_ms']} ms,"
                      f" the server's {split['server_cpu_ms']} ms")  # fmt: skip
                target = 2000 if batch > 1 else None
                if target is None:
                    report.figures[LABELS[batch]] = rate
                else:
                    report.check(LABELS[batch], rate, ">=", target, "msg/s")
    finally:
        cluster.stop()
    return report


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.routing_pg [--quick]``."""
    args = parse_args(argv, __doc__)
    count, rounds = (500, 1) if args.quick else (3000, 3)
    measure(count, rounds).save()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
