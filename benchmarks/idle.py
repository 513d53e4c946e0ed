"""Idle: what the daemon costs when nothing happens.

The real ``smsd run`` subprocess on one simulated modem (in this process). After READY and a
few seconds to settle (the start-up sweep), we count the AT commands the simulator receives
(``stats["commands"]``) and the daemon's CPU (utime + stime from /proc/PID/stat) over 5 minutes
(``--quick``: 1 minute). RSS is read after start and at the end.

Targets: <= 1 AT command and <= 0.05 s CPU per idle minute; RSS <= 30 MB.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

from benchmarks.common import Report, TimedSim, daemon_running, parse_args, scratch_dir
from smsd.testing import make_db

__all__ = ["main", "measure"]

SETTLE_S = 5.0


def wakeups(pid: int) -> Counter[str]:
    """Voluntary context switches (each a sleep that ended) per thread (name/tid) of ``pid``."""
    out: Counter[str] = Counter()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            for line in (task / "status").read_text().splitlines():
                if line.startswith("voluntary_ctxt_switches:"):
                    out[f"{name}/{task.name}"] += int(line.split()[1])
        except OSError:
            continue  # the thread ended meanwhile
    return out


def measure(minutes: float) -> Report:
    """Leave the daemon idle for ``minutes``; return the report."""
    report = Report("idle", quick=minutes < 5)
    with scratch_dir("idle") as tmp:
        db = tmp / "smsd.db"
        make_db(db)
        sim = TimedSim("generic")
        sim.start()
        try:
            with daemon_running(tmp, db, [sim.device_path]) as daemon:
                time.sleep(SETTLE_S)  # let the start-up sweep finish before counting
                rss_start = daemon.rss_kb()
                commands0, per0, cpu0 = sim.stats["commands"], sim.command_counts, daemon.cpu()
                wake0 = wakeups(daemon.pid)
                started = time.monotonic()
                time.sleep(minutes * 60)
                elapsed_min = (time.monotonic() - started) / 60
                commands1, per1, cpu1 = sim.stats["commands"], sim.command_counts, daemon.cpu()
                wake1 = wakeups(daemon.pid)
                rss_end = daemon.rss_kb()
        finally:
            sim.stop()
    per = Counter(per1)
    per.subtract(per0)
    report.figures.update(
        idle_minutes=round(elapsed_min, 2),
        commands=commands1 - commands0,
        commands_by_name={k: v for k, v in per.items() if v},
        commands_per_min=round((commands1 - commands0) / elapsed_min, 3),
        cpu_s=round(cpu1 - cpu0, 3),
        cpu_s_per_min=round((cpu1 - cpu0) / elapsed_min, 4),
        rss_after_start_mb=round((rss_start["VmRSS"] or 0) / 1024, 1),
        rss_after_idle_mb=round((rss_end["VmRSS"] or 0) / 1024, 1),
        cpu_resolution_s=0.01,
        wakeups_per_min_by_thread={
            k: round((wake1[k] - wake0.get(k, 0)) / elapsed_min, 1) for k in wake1
        },
    )
    report.check("AT commands per idle minute", report.figures["commands_per_min"], "<=", 1)
    report.check("CPU s per idle minute", report.figures["cpu_s_per_min"], "<=", 0.05, "s")
    report.check("RSS after start", report.figures["rss_after_start_mb"], "<=", 30, "MB")
    report.check("RSS after idle", report.figures["rss_after_idle_mb"], "<=", 30, "MB")
    return report


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.idle [--quick]``."""
    args = parse_args(argv, __doc__ or "")
    print("idle: AT commands and CPU per idle minute")
    report = measure(1 if args.quick else 5)
    figures = report.figures
    print(
        f"  idle daemon RSS: {figures['rss_after_start_mb']} MB after start,"
        f" {figures['rss_after_idle_mb']} MB after {figures['idle_minutes']} idle minutes"
    )
    report.save()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
