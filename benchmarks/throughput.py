"""Send throughput against the modem's own limit: AT+CMGS takes 1.5 s, so 40 SMS/min/modem.

The outbox is filled before the daemon starts (``store.outbox.queue_outgoing``, more than the window
can drain), then the real ``smsd run`` subprocess sends through 1 and then 8 simulated modems
(in this process, each with ``cmgs_delay=1.5``; status reports on, as in production). The rate
of one modem is ``(k - 1) / (t_k - t_1)`` over the AT+CMGS commands that arrived in the window.

Targets: one modem >= 0.97 x 40/min; eight modems >= 0.9 x 8 x (one modem's measured rate).
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

from benchmarks.common import Report, TimedSim, daemon_running, handset, parse_args, scratch_dir
from smsd.testing import make_db
from store.store import Store

__all__ = ["main", "measure", "run_modems"]

CMGS_DELAY = 1.5
LIMIT_PER_MIN = 60 / CMGS_DELAY


def run_modems(modems: int, window: float) -> dict[str, object]:
    """Drain a full outbox through ``modems`` simulators for ``window`` s; figures per modem."""
    per_modem_queue = int(window / CMGS_DELAY * 1.3) + 10
    with scratch_dir(f"tput{modems}") as tmp:
        db = tmp / "smsd.db"
        make_db(db)
        store = Store.open(db)
        now = datetime.now(UTC)
        with store.transaction():
            for i in range(per_modem_queue * modems):
                store.outbox.queue_outgoing(
                    handset(i + 1), f"Offer {i}: 2-for-1 today", "manual", now=now
                )
        store.close()
        sims = [TimedSim("generic", noise=False, storage_size=50, cmgs_delay=CMGS_DELAY)]
        sims += [
            TimedSim("generic", noise=False, storage_size=50, cmgs_delay=CMGS_DELAY, seed=i)
            for i in range(1, modems)
        ]
        for sim in sims:
            sim.start()
        try:
            with daemon_running(tmp, db, [s.device_path for s in sims]) as daemon:
                time.sleep(window + CMGS_DELAY * 2)  # the measurement window itself
                cpu = daemon.cpu()
        finally:
            for sim in sims:
                sim.stop()
    firsts = [s.cmgs_at[0] for s in sims if s.cmgs_at]
    start = min(firsts) if firsts else 0.0
    rates = [_rate(s.cmgs_at, start, start + window) for s in sims]
    return {
        "modems": modems,
        "window_s": window,
        "per_modem_per_min": [round(r, 2) for r in rates],
        "total_per_min": round(sum(rates), 2),
        "daemon_cpu_s": round(cpu, 2),
    }


def _rate(times: list[float], start: float, end: float) -> float:
    inside = [t for t in times if start <= t <= end]
    if len(inside) < 2:
        return 0.0
    return (len(inside) - 1) / (inside[-1] - inside[0]) * 60


def measure(window: float, many: int = 8) -> Report:
    """One modem, then ``many`` modems, each for ``window`` seconds."""
    report = Report("throughput", quick=window < 60)
    one = run_modems(1, window)
    eight = run_modems(many, window)
    single = float(one["total_per_min"])  # type: ignore[arg-type]
    total = float(eight["total_per_min"])  # type: ignore[arg-type]
    report.figures.update(
        limit_per_min=LIMIT_PER_MIN,
        one=one,
        many=eight,
        one_ratio_of_limit=round(single / LIMIT_PER_MIN, 4),
        many_ratio_of_n_times_one=round(total / (many * single), 4) if single else None,
        many_ratio_of_n_times_limit=round(total / (many * LIMIT_PER_MIN), 4),
    )
    report.check("1 modem, share of 40/min", report.figures["one_ratio_of_limit"], ">=", 0.97)
    report.check(
        f"{many} modems, share of {many} x one",
        report.figures["many_ratio_of_n_times_one"],
        ">=",
        0.9,
    )
    return report


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.throughput [--quick]``."""
    args = parse_args(argv, __doc__ or "")
    print("throughput: SMS/min with AT+CMGS taking 1.5 s")
    measure(20 if args.quick else 75).save()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
