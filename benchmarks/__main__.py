"""``python -m benchmarks [--quick] [--only NAME ...] [--scale X]``: run every benchmark.

Each benchmark runs in its own interpreter (``python -m benchmarks.NAME``) so one cannot skew
another's memory or threads; then the table of figure vs target vs pass/miss is printed from
``benchmarks/results/*.json``. Exit code 0 when every benchmark ran (misses are reported, not
failures: these are measurements, not tests), 1 when one of them crashed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from benchmarks.common import RESULTS, ROOT, machine

__all__ = ["BENCHMARKS", "main"]

#: Cheapest first, so a quick look at the table comes early.
BENCHMARKS = (
    "startup",
    "routing",
    "latency",
    "burst",
    "throughput",
    "idle",
    "recovery",
    "scale",
    "web",
    "integrations",
)


def _run(name: str, quick: bool, scale: float | None) -> tuple[bool, float]:
    argv = [sys.executable, "-m", f"benchmarks.{name}"]
    if quick:
        argv.append("--quick")
    if name in ("scale", "web", "integrations") and scale is not None:
        argv += ["--scale", str(scale)]
    print(f"== {name}", flush=True)
    started = time.perf_counter()
    code = subprocess.call(argv, cwd=ROOT)
    elapsed = time.perf_counter() - started
    print(f"   ({elapsed:.0f} s)", flush=True)
    return code == 0, elapsed


def table(names: tuple[str, ...] | list[str]) -> list[str]:
    """Rows ``benchmark | figure | value | target | verdict`` from the saved results."""
    rows = ["| benchmark | figure | measured | target | |", "|---|---|---|---|---|"]
    for name in names:
        path = RESULTS / f"{name}.json"
        if not path.exists():
            rows.append(f"| {name} | (no result) | | | error |")
            continue
        data = json.loads(path.read_text())
        for c in data["checks"]:
            value = "n/a" if c["value"] is None else f"{c['value']:.4g} {c['unit']}".strip()
            verdict = "pass" if c["passed"] else "MISS"
            rows.append(
                f"| {name} | {c['label']} | {value} | {c['op']} {c['target']:g} | {verdict} |"
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run the selected benchmarks one after another and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short smoke versions")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, help="run just these")
    parser.add_argument("--scale", type=float, default=None, help="scale benchmark size factor")
    args = parser.parse_args(argv)
    names = list(args.only or BENCHMARKS)
    print(f"machine: {machine()}")
    ok = True
    durations = {}
    for name in names:
        ran, durations[name] = _run(name, args.quick, args.scale)
        if not ran:
            (RESULTS / f"{name}.json").unlink(missing_ok=True)  # no stale figures in the table
        ok = ok and ran
    print()
    print("\n".join(table(names)))
    print()
    print("durations: " + ", ".join(f"{n} {s:.0f} s" for n, s in durations.items()))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
