"""Reply latency: the simulator's +CMTI to the reply's AT+CMGS, through the real pty.

The simulator (zero send delay, no noise) runs in this process; the daemon is the real
``smsd run`` subprocess. Messages go one at a time from known people texting a code (one reply
each): deliver, wait for the reply's AT+CMGS, let the status report be taken, next. Both
timestamps are taken in this process (``TimedSim``), so clocks agree.

Target: median <= 50 ms, p99 <= 250 ms over >= 200 messages.
"""

from __future__ import annotations

import sys

from benchmarks.common import (
    Report,
    TimedSim,
    daemon_running,
    handset,
    median,
    parse_args,
    percentile,
    scratch_dir,
)
from smsd.testing import make_db, wait_until

__all__ = ["main", "measure"]


def measure(count: int) -> Report:
    """Send ``count`` messages one by one; return the report."""
    report = Report("latency", quick=count < 200)
    senders = [handset(i + 1) for i in range(count)]
    with scratch_dir("latency") as tmp:
        db = tmp / "smsd.db"
        make_db(db, known_people=senders)
        sim = TimedSim("generic", noise=False, storage_size=50)
        sim.start()
        try:
            with daemon_running(tmp, db, [sim.device_path]) as daemon:
                report.figures["daemon_start_s"] = round(daemon.ready_after or 0.0, 3)
                latencies = _run(sim, senders)
        finally:
            sim.stop()
    ms = [x * 1000 for x in latencies]
    report.figures.update(
        messages=len(ms),
        median_ms=round(median(ms), 2),
        p90_ms=round(percentile(ms, 90), 2),
        p99_ms=round(percentile(ms, 99), 2),
        max_ms=round(max(ms), 2),
        min_ms=round(min(ms), 2),
        setup="simulator in the benchmark process, daemon as a real subprocess on the pty",
    )
    report.check("reply latency median", report.figures["median_ms"], "<=", 50, "ms")
    report.check("reply latency p99", report.figures["p99_ms"], "<=", 250, "ms")
    return report


def _run(sim: TimedSim, senders: list[str]) -> list[float]:
    latencies: list[float] = []
    for done, sender in enumerate(senders, start=1):
        cmti, cmgs = len(sim.cmti_at), len(sim.cmgs_at)
        sim.deliver(sender, "pizza")
        wait_until(lambda n=cmgs: len(sim.cmgs_at) > n, 30, "the reply's AT+CMGS")  # type: ignore[misc]
        latencies.append(sim.cmgs_at[cmgs] - sim.cmti_at[cmti])
        # Quiet again: message and status report taken off the SIM, nothing in flight.
        wait_until(lambda n=done: _settled(sim, n), 30, "the status report taken")  # type: ignore[misc]
    return latencies


def _settled(sim: TimedSim, sent: int) -> bool:
    stats = sim.stats
    return stats.get("status_reports", 0) >= sent and stats["storage_used"] == 0


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.latency [--quick]``."""
    args = parse_args(argv, __doc__ or "")
    print("latency: +CMTI -> AT+CMGS of the reply")
    measure(40 if args.quick else 300).save()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
