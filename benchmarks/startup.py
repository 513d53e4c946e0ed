"""Start-up: what one ``smsd`` command line costs a script that calls it in a loop.

The real console script (``.venv/bin/smsd``, else ``python -m cli``) in a fresh process each
time: ``smsd --db TMP send +447700900123 TEXT`` against a temporary database (created and
migrated by one untimed run first) and ``smsd --help``; median wall time of 10 runs each
(``--quick``: 5), next to the bare interpreter (``python -c pass``) as the floor. One
``python -X importtime`` run of ``send`` then shows which packages its imports spend the time
in (each module's own time, summed per top-level package).

Bytecode: an installed package has its ``.pyc`` files (pip compiles them at install time), so
the timed runs use a bytecode cache (``PYTHONPYCACHEPREFIX`` in the scratch folder, written by
the untimed first run; ``PYTHONDONTWRITEBYTECODE`` is dropped for them). The same ``send``
without it, every module of ours compiled from source as a source tree with
``PYTHONDONTWRITEBYTECODE=1`` does, is reported next to it (``send_nocache_s``).

Target: ``smsd send`` <= 0.1 s (median). gammu-smsd-inject takes about 0.01 s.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from benchmarks.common import Report, median, parse_args, scratch_dir

__all__ = ["import_costs", "main", "measure"]

NUMBER = "+447700900123"


def smsd_argv() -> list[str]:
    """How a user starts ``smsd``: the console script next to this interpreter, if installed."""
    script = Path(sys.executable).with_name("smsd")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli"]


def _env(pycache: Path | None) -> dict[str, str]:
    """The child's environment: no SMSD_* of ours; bytecode cached under ``pycache``, or not
    written at all when it is None."""
    drop = ("SMSD_", "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["SMSD_CONFIG"] = os.devnull  # defaults: no /etc/smsd/smsd.toml on the machine counts
    if pycache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def wall(argv: list[str], runs: int, pycache: Path | None) -> float:
    """Median wall seconds of ``runs`` fresh processes of ``argv`` (each must exit 0)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, env=_env(pycache), check=True, capture_output=True, timeout=60)
        times.append(time.perf_counter() - started)
    return median(times)


def import_costs(argv: list[str], pycache: Path) -> dict[str, float]:
    """Import milliseconds per top-level package (its modules' own times), ``-X importtime``."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *argv],
        env=_env(pycache),
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    costs: Counter[str] = Counter()
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        own, _, name = line.removeprefix("import time:").split("|")
        if own.strip().isdigit():
            costs[name.strip().split(".")[0]] += int(own) / 1000
    return {name: round(ms, 1) for name, ms in costs.most_common(12)}


def measure(runs: int) -> Report:
    """Time ``send``, ``--help`` and the bare interpreter; break down the imports of ``send``."""
    report = Report("startup", quick=runs < 10)
    with scratch_dir("startup") as workdir:
        pycache = workdir / "pycache"
        send = [*smsd_argv(), "--db", str(workdir / "smsd.db"), "send", NUMBER, "startup"]
        for argv in (send, [*smsd_argv(), "--help"], [sys.executable, "-c", "pass"]):
            subprocess.run(argv, env=_env(pycache), check=True, capture_output=True, timeout=60)
        report.figures["runs"] = runs
        report.figures["python_s"] = wall([sys.executable, "-c", "pass"], runs, pycache)
        report.figures["send_s"] = wall(send, runs, pycache)
        report.figures["help_s"] = wall([*smsd_argv(), "--help"], runs, pycache)
        report.figures["send_nocache_s"] = wall(send, runs, None)
        module_send = [sys.executable, "-m", "cli", *send[len(smsd_argv()) :]]
        report.figures["send_imports_ms"] = import_costs(module_send[1:], pycache)
    report.check("smsd send (median wall)", report.figures["send_s"], "<=", 0.1, "s")
    report.notes.append(
        f"smsd --help {report.figures['help_s']:.3f} s; "
        f"bare python {report.figures['python_s']:.3f} s; smsd send without a bytecode cache "
        f"{report.figures['send_nocache_s']:.3f} s"
    )
    return report


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.startup [--quick]``."""
    args = parse_args(argv, __doc__ or "")
    print("startup: smsd send / smsd --help in fresh processes, median wall")
    report = measure(5 if args.quick else 10)
    report.save()
    for name, ms in report.figures["send_imports_ms"].items():
        print(f"    import {name}: {ms:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
