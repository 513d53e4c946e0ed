"""Two gateway hosts x 8 simulated modems on one PostgreSQL: send throughput of the pair.

As ``benchmarks.throughput`` (AT+CMGS takes 1.5 s: 40 SMS/min/modem; the outbox filled
beforehand), but with two ``smsd run`` processes ("hosts", ``SMSD_HOST`` a and b), each with
8 simulators, against a throwaway PostgreSQL cluster (``smsd.testing.pgcluster``). Each host
claims rows with ``FOR UPDATE SKIP LOCKED`` under the store's write lock.

Target: >= 0.9 x 16 x one modem's limit.
"""

from __future__ import annotations

import json
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.common import Report, TimedSim, daemon_running, handset, parse_args, scratch_dir
from benchmarks.throughput import CMGS_DELAY, LIMIT_PER_MIN, _rate
from store.store import Store

__all__ = ["main", "measure"]

PER_HOST = 8


def _seed(url: str, count: int) -> None:
    with Store.open(url) as store:
        store.directory.add_business("Pizza Place")
        now = datetime.now(UTC)
        with store.transaction():
            for i in range(count):
                store.outbox.queue_outgoing(handset(i + 1), f"Offer {i}", "manual", now=now)


def _config(path: Path, host: str, devices: list[str]) -> list[str]:
    """The host's config: its name and its modems, named apart from the other host's (a
    modem name is held by one live host: `--device` would name both hosts' modem0..7)."""
    lines = ["[gateway]", f"host = {json.dumps(host)}", ""]
    for i, device in enumerate(devices):
        lines += ["[[modems]]", f"url = {json.dumps(device)}", f'name = "{host}-m{i}"', ""]
    path.write_text("\n".join(lines))
    return ["--config", str(path)]


def measure(window: float) -> Report:
    """Both hosts drain one outbox through 8 modems each for ``window`` seconds."""
    from smsd.testing.pgcluster import PgCluster

    report = Report("throughput_hosts", quick=window < 60)
    modems = 2 * PER_HOST
    cluster = PgCluster(durable=True)
    cluster.start()
    sims = [
        TimedSim("generic", noise=False, storage_size=50, cmgs_delay=CMGS_DELAY, seed=i)
        for i in range(modems)
    ]
    try:
        url = cluster.fresh_url()
        _seed(url, (int(window / CMGS_DELAY * 1.3) + 10) * modems)
        for sim in sims:
            sim.start()
        with scratch_dir("tput-hosts") as tmp, ExitStack() as stack:
            for h, host in enumerate("ab"):
                (tmp / host).mkdir()
                group = [s.device_path for s in sims[h * PER_HOST : (h + 1) * PER_HOST]]
                config = _config(tmp / host / "smsd.toml", host, group)
                stack.enter_context(daemon_running(tmp / host, url, [], config))  # type: ignore[arg-type]
            time.sleep(window + CMGS_DELAY * 2)  # the measurement window itself
    finally:
        for sim in sims:
            sim.stop()
        cluster.stop()
    firsts = [s.cmgs_at[0] for s in sims if s.cmgs_at]
    start = min(firsts) if firsts else 0.0
    rates = [_rate(s.cmgs_at, start, start + window) for s in sims]
    total = sum(rates)
    report.figures.update(
        window_s=window,
        per_modem_per_min=[round(r, 2) for r in rates],
        total_per_min=round(total, 2),
        limit_per_min=LIMIT_PER_MIN,
    )
    print(f"  two hosts x {PER_HOST} modems: {round(total, 1)} SMS/min")
    report.check(
        "2 hosts x 8 modems, share of 16 x limit",
        round(total / (modems * LIMIT_PER_MIN), 4),
        ">=",
        0.9,
    )
    return report


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.throughput_hosts [--quick]``."""
    args = parse_args(argv, __doc__ or "")
    measure(20 if args.quick else 75).save()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
