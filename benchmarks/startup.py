"""Start-up: what one ``smsd`` command line costs a script that calls it in a loop.

Timed where production runs it: the checkout's wheel installed into a fresh venv of Debian's
``python3``, as docs/DEPLOYING.md and ``systemd/install.sh`` install it (`benchmarks.prodinstall`
builds it in the scratch folder; bytecode compiled by pip). ``smsd --db TMP send +447700900123
TEXT`` against a temporary database (created and migrated by one untimed run first) and ``smsd
--help``, each in a fresh process; median wall time of 10 runs each (``--quick``: 5), next to
the bare interpreter (``python -c pass``) as the floor. The same ``send`` from this development
venv (editable install, its own interpreter) is reported beside it, with and without a
bytecode cache (``PYTHONDONTWRITEBYTECODE=1``, as this environment sets, compiles every module
of ours on every run). One ``python -X importtime`` run of the installed ``send`` then shows
which packages its imports spend the time in (each module's own time, summed per top-level
package).

Target: ``smsd send`` <= 0.1 s (median, installed). gammu-smsd-inject takes about 0.01 s.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from benchmarks.common import Report, median, parse_args, scratch_dir
from benchmarks.prodinstall import ProductionInstall, build

__all__ = ["import_costs", "main", "measure"]

NUMBER = "+447700900123"


def smsd_argv() -> list[str]:
    """How a user starts ``smsd``: the console script next to this interpreter, if installed."""
    script = Path(sys.executable).with_name("smsd")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli"]


def _env(pycache: Path | None, *, installed: bool = False) -> dict[str, str]:
    """The child's environment: no SMSD_* of ours; bytecode cached under ``pycache``, or not
    written at all when it is None; an installed venv reads the ``__pycache__`` pip wrote."""
    drop = ("SMSD_", "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["SMSD_CONFIG"] = os.devnull  # defaults: no /etc/smsd/smsd.toml on the machine counts
    if installed:
        return env
    if pycache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def wall(argv: list[str], runs: int, env: dict[str, str]) -> float:
    """Median wall seconds of ``runs`` fresh processes of ``argv`` (each must exit 0)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, env=env, check=True, capture_output=True, timeout=60)
        times.append(time.perf_counter() - started)
    return median(times)


def import_costs(python: Path, argv: list[str], env: dict[str, str]) -> dict[str, float]:
    """Import milliseconds per top-level package (its modules' own times), ``-X importtime``."""
    done = subprocess.run(
        [str(python), "-X", "importtime", *argv],
        env=env,
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


def _installed(report: Report, install: ProductionInstall, db: Path, runs: int) -> None:
    """The target figures: ``send``, ``--help`` and the bare interpreter, as installed."""
    env = _env(None, installed=True)
    send = [str(install.smsd), "--db", str(db), "send", NUMBER, "startup"]
    for argv in (send, [str(install.smsd), "--help"], [str(install.python), "-c", "pass"]):
        subprocess.run(argv, env=env, check=True, capture_output=True, timeout=60)
    report.figures["python_s"] = wall([str(install.python), "-c", "pass"], runs, env)
    report.figures["send_s"] = wall(send, runs, env)
    report.figures["help_s"] = wall([str(install.smsd), "--help"], runs, env)
    report.figures["send_imports_ms"] = import_costs(install.python, send, env)


def _development(report: Report, workdir: Path, runs: int) -> None:
    """The same ``send`` from this venv (editable install), with and without bytecode."""
    pycache = workdir / "pycache"
    send = [*smsd_argv(), "--db", str(workdir / "smsd.db"), "send", NUMBER, "startup"]
    subprocess.run(send, env=_env(pycache), check=True, capture_output=True, timeout=60)
    report.figures["dev_python_s"] = wall([sys.executable, "-c", "pass"], runs, _env(pycache))
    report.figures["dev_send_s"] = wall(send, runs, _env(pycache))
    report.figures["send_nocache_s"] = wall(send, runs, _env(None))


def measure(runs: int) -> Report:
    """Time ``send``, ``--help`` and the bare interpreter; break down the imports of ``send``."""
    report = Report("startup", quick=runs < 10)
    with scratch_dir("startup") as workdir:
        install = build(workdir)
        report.figures["runs"] = runs
        report.figures["interpreter"] = str(install.python.resolve())
        _installed(report, install, workdir / "smsd.db", runs)
        _development(report, workdir, runs)
    report.check("smsd send (median wall)", report.figures["send_s"], "<=", 0.1, "s")
    report.notes.append(
        f"installed with {report.figures['interpreter']}: smsd --help "
        f"{report.figures['help_s']:.3f} s; bare python {report.figures['python_s']:.3f} s"
    )
    report.notes.append(
        f"this development venv (editable): smsd send {report.figures['dev_send_s']:.3f} s, "
        f"without a bytecode cache {report.figures['send_nocache_s']:.3f} s; bare python "
        f"{report.figures['dev_python_s']:.3f} s"
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
