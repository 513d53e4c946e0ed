"""Idle: what the daemon costs when nothing happens, after start and after some traffic.

The real ``smsd run`` subprocess on one simulated modem (in this process), started with the
systemd unit's ``Environment=`` (`benchmarks.common.unit_environment`). After READY and a few
seconds to settle (the start-up sweep) RSS is read ("start"); then 20 texts to PIZZA arrive
(half from known people, who get the opt-in confirmation and the reply, half first contacts,
who get their user code and the reply) and RSS is read again once all 40 replies were sent and
their status reports taken ("after traffic"). Then we count the AT
commands the simulator receives (``stats["commands"]``) and the daemon's CPU (utime + stime
from /proc/PID/stat) over 5 idle minutes (``--quick``: 1 minute), and read RSS at the end.
Each RSS figure is the median of 5 reads a second apart, with /proc/PID/smaps_rollup's split.

Targets: <= 1 AT command and <= 0.05 s CPU per idle minute; RSS <= 30 MB at all three points.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from benchmarks.common import (
    DaemonProc,
    Report,
    TimedSim,
    daemon_running,
    handset,
    parse_args,
    scratch_dir,
)
from smsd.testing import make_db, wait_until

__all__ = ["TEXTS", "main", "measure"]

SETTLE_S = 5.0
TEXTS = 20  # half from known people, half first contacts: two replies each
_ROLLUP_KEYS = ("Rss", "Anonymous", "Shared_Clean", "Private_Clean")


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


def smaps_rollup_kb(pid: int) -> dict[str, int]:
    """Rss, Anonymous (heap, Python's objects), Shared_Clean and Private_Clean (mapped files:
    the interpreter and the shared libraries) of ``pid``, in kB."""
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in _ROLLUP_KEYS:
            out[key] = int(rest.split()[0])
    return out


def rss_mb(daemon: DaemonProc, reads: int = 5) -> dict[str, float]:
    """The median of ``reads`` smaps_rollup reads a second apart, in MB."""
    samples = []
    for i in range(reads):
        if i:
            time.sleep(1.0)
        samples.append(smaps_rollup_kb(daemon.pid))
    return {
        key.lower(): round(statistics.median(s.get(key, 0) for s in samples) / 1024, 1)
        for key in _ROLLUP_KEYS
    }


def traffic(sim: TimedSim, known: list[str], first: list[str]) -> float:
    """Deliver one text from each sender, one at a time; wait until every reply was sent and
    its status report taken. Return the seconds it took."""
    started = time.monotonic()
    for sender in [*known, *first]:
        sim.deliver(sender, "pizza")
    replies = 2 * (len(known) + len(first))

    def settled() -> bool:
        stats = sim.stats
        return stats.get("status_reports", 0) >= replies and stats["storage_used"] == 0

    wait_until(settled, 120, f"{replies} replies sent and their status reports taken")
    return time.monotonic() - started


def measure(minutes: float) -> Report:
    """Start, send ``TEXTS`` texts, leave the daemon idle for ``minutes``; return the report."""
    report = Report("idle", quick=minutes < 5)
    senders = [handset(i + 1) for i in range(TEXTS)]
    known, first = senders[: TEXTS // 2], senders[TEXTS // 2 :]
    with scratch_dir("idle") as tmp:
        db = tmp / "smsd.db"
        make_db(db, known_people=known)
        sim = TimedSim("generic", storage_size=50)  # room for the 20 texts at once
        sim.start()
        try:
            with daemon_running(tmp, db, [sim.device_path]) as daemon:
                time.sleep(SETTLE_S)  # let the start-up sweep finish before measuring
                rss_start = rss_mb(daemon)
                traffic_s = traffic(sim, known, first)
                rss_traffic = rss_mb(daemon)
                idle = _idle(sim, daemon, minutes)
                rss_end = rss_mb(daemon)
            replies = len(sim.sent())
        finally:
            sim.stop()
    report.figures.update(idle)
    report.figures.update(
        texts=TEXTS,
        replies_sent=replies,
        traffic_s=round(traffic_s, 2),
        rss_after_start_mb=rss_start["rss"],
        rss_after_traffic_mb=rss_traffic["rss"],
        rss_after_idle_mb=rss_end["rss"],
        smaps_rollup_mb={"start": rss_start, "after_traffic": rss_traffic, "end": rss_end},
        cpu_resolution_s=0.01,
    )
    report.check("AT commands per idle minute", report.figures["commands_per_min"], "<=", 1)
    report.check("CPU s per idle minute", report.figures["cpu_s_per_min"], "<=", 0.05, "s")
    report.check("RSS after start", rss_start["rss"], "<=", 30, "MB")
    report.check(f"RSS after {TEXTS} texts", rss_traffic["rss"], "<=", 30, "MB")
    report.check("RSS at the end of the idle period", rss_end["rss"], "<=", 30, "MB")
    return report


def _idle(sim: TimedSim, daemon: DaemonProc, minutes: float) -> dict[str, object]:
    """AT commands, CPU and wake-ups over ``minutes`` of nothing happening."""
    commands0, per0, cpu0 = sim.stats["commands"], sim.command_counts, daemon.cpu()
    wake0 = wakeups(daemon.pid)
    started = time.monotonic()
    time.sleep(minutes * 60)
    elapsed_min = (time.monotonic() - started) / 60
    commands1, per1, cpu1 = sim.stats["commands"], sim.command_counts, daemon.cpu()
    wake1 = wakeups(daemon.pid)
    per = Counter(per1)
    per.subtract(per0)
    return {
        "idle_minutes": round(elapsed_min, 2),
        "commands": commands1 - commands0,
        "commands_by_name": {k: v for k, v in per.items() if v},
        "commands_per_min": round((commands1 - commands0) / elapsed_min, 3),
        "cpu_s": round(cpu1 - cpu0, 3),
        "cpu_s_per_min": round((cpu1 - cpu0) / elapsed_min, 4),
        "wakeups_per_min_by_thread": {
            k: round((wake1[k] - wake0.get(k, 0)) / elapsed_min, 1) for k in wake1
        },
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.idle [--quick]``."""
    args = parse_args(argv, __doc__ or "")
    print("idle: AT commands and CPU per idle minute; RSS after start, traffic and idling")
    report = measure(1 if args.quick else 5)
    figures = report.figures
    print(
        f"  idle daemon RSS: {figures['rss_after_start_mb']} MB after start,"
        f" {figures['rss_after_traffic_mb']} MB after {TEXTS} texts,"
        f" {figures['rss_after_idle_mb']} MB after {figures['idle_minutes']} idle minutes"
    )
    report.save()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
