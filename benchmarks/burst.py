"""Burst: 1,000 incoming SMS from new people as fast as the simulator can emit them.

The simulator (zero send delay, SIM storage larger than the burst so nothing waits in the
network queue) runs in this process; the daemon is the real ``smsd run`` subprocess. Every
message is a first contact texting a code, so each is answered twice (user code + reply).
We poll the database file (read-only, WAL) until every message is stored and routed, and the
simulator until every reply was sent. Peak memory is the daemon's VmHWM.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from pathlib import Path

from benchmarks.common import Report, TimedSim, daemon_running, handset, parse_args, scratch_dir
from smsd.testing import make_db, wait_until

__all__ = ["main", "measure"]


def _count(db: Path, sql: str) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def measure(count: int) -> Report:
    """Deliver ``count`` messages at once; return the report."""
    report = Report("burst", quick=count < 1000)
    with scratch_dir("burst") as tmp:
        db = tmp / "smsd.db"
        make_db(db)
        sim = TimedSim("generic", noise=False, storage_size=count + 20)
        sim.start()
        try:
            with daemon_running(tmp, db, [sim.device_path]) as daemon:
                rss_start = daemon.rss_kb()
                cpu_start = daemon.cpu()
                figures = _burst(sim, db, count)
                rss_end = daemon.rss_kb()
                figures["daemon_cpu_s"] = round(daemon.cpu() - cpu_start, 2)
        finally:
            sim.stop()
    report.figures.update(figures)
    report.figures.update(
        messages=count,
        rss_start_mb=round((rss_start["VmRSS"] or 0) / 1024, 1),
        rss_after_mb=round((rss_end["VmRSS"] or 0) / 1024, 1),
        peak_rss_mb=round((rss_end["VmHWM"] or 0) / 1024, 1),
        sim_memory_full=sim.stats["memory_full"],
    )
    report.check("all stored and routed", figures["routed"], ">=", count)
    report.check("all answered (2 per first contact)", figures["replies_sent"], ">=", 2 * count)
    report.check("peak daemon RSS during burst", report.figures["peak_rss_mb"], "<=", 40, "MB")
    return report


def _burst(sim: TimedSim, db: Path, count: int) -> dict[str, float | int]:
    routed_sql = "SELECT count(*) FROM incoming WHERE state IN ('routed', 'ignored')"
    started = time.perf_counter()
    for i in range(count):
        sim.deliver(handset(i + 1), "pizza")
    delivered_s = time.perf_counter() - started
    timeout = 60 + count * 0.5
    stored_s: float | None = None
    try:
        wait_until(lambda: _count(db, routed_sql) >= count, timeout, "all stored", poll=0.05)
        stored_s = time.perf_counter() - started
        wait_until(lambda: sim.stats["sent"] >= 2 * count, timeout, "all answered", poll=0.05)
    except TimeoutError as exc:
        print(f"  {exc}")  # the checks below show how far it got
    answered_s = time.perf_counter() - started
    if stored_s is None:
        stored_s = answered_s
    return {
        "emit_s": round(delivered_s, 2),
        "stored_s": round(stored_s, 2),
        "answered_s": round(answered_s, 2),
        "stored_per_s": round(count / stored_s, 1),
        "answered_msgs_per_s": round(count / answered_s, 1),
        "replies_per_s": round(2 * count / answered_s, 1),
        "routed": _count(db, routed_sql),
        "replies_sent": sim.stats["sent"],
        "sim_commands": sim.stats["commands"],
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.burst [--quick]``."""
    args = parse_args(argv, __doc__ or "")
    print("burst: 1,000 incoming at once")
    measure(200 if args.quick else 1000).save()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
