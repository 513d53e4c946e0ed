"""What every benchmark shares: results, the daemon as a subprocess, a timestamping simulator.

Each benchmark module has ``main(argv) -> int`` that measures, prints its figures and writes
``benchmarks/results/NAME.json`` as a :class:`Report`. Figures are medians or ratios: the
machine is shared, single runs are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from modem.sim import SimModem
from smsd.testing import DaemonProcess, notify_socket

__all__ = [
    "RESULTS",
    "ROOT",
    "Check",
    "DaemonProc",
    "Report",
    "TimedSim",
    "cpu_seconds",
    "daemon_running",
    "handset",
    "machine",
    "median",
    "parse_args",
    "percentile",
    "proc_status_kb",
    "quiet_logs",
    "scratch_dir",
    "unit_environment",
]

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
UNIT = ROOT / "systemd" / "smsd.service"
_CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Check:
    """One figure against its target: ``value <op> target`` passes."""

    label: str
    value: float | None
    target: float
    op: str  # "<=" or ">="
    unit: str = ""

    @property
    def passed(self) -> bool:
        """Whether the figure meets the target (a missing figure misses)."""
        if self.value is None:
            return False
        return self.value <= self.target if self.op == "<=" else self.value >= self.target


@dataclass
class Report:
    """A benchmark's checks plus every other figure it measured."""

    name: str
    quick: bool
    checks: list[Check] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def check(
        self, label: str, value: float | None, op: str, target: float, unit: str = ""
    ) -> None:
        """Add a figure with a target."""
        self.checks.append(Check(label, value, target, op, unit))

    def save(self) -> Path:
        """Write ``results/NAME.json`` and print a short summary; return the path."""
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"{self.name}.json"
        data = asdict(self)
        data["machine"] = machine()
        data["checks"] = [{**asdict(c), "passed": c.passed} for c in self.checks]
        path.write_text(json.dumps(data, indent=2, default=str) + "\n")
        for c in self.checks:
            shown = "n/a" if c.value is None else f"{c.value:.4g}"
            verdict = "pass" if c.passed else "MISS"
            print(f"  {c.label}: {shown} {c.unit} (target {c.op} {c.target:g}) {verdict}")
        for note in self.notes:
            print(f"  note: {note}")
        print(f"  -> {path.relative_to(ROOT)}")
        return path


def parse_args(argv: list[str] | None, description: str) -> argparse.Namespace:
    """The options every benchmark takes (``--quick``); modules may add their own after."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="short smoke version")
    args, _ = parser.parse_known_args(argv)
    quiet_logs()
    return args


def quiet_logs() -> None:
    """Only warnings from the simulator and the store in this process: figures stay readable."""
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def machine() -> dict[str, Any]:
    """nproc, CPU model, RAM, Python and SQLite versions."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = proc_status_kb("/proc/meminfo", "MemTotal") or 0
    import sqlite3

    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100), nearest-rank on the sorted values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    """The median, NaN when empty."""
    return statistics.median(values) if values else float("nan")


def proc_status_kb(path: str, key: str) -> int | None:
    """A ``Key:   123 kB`` value from a /proc status-like file, in kB."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` (all its threads) from /proc/PID/stat."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


@contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A temporary directory with a short path (unix socket paths are limited to 108 bytes)."""
    path = Path(tempfile.mkdtemp(prefix=f"smsd-bench-{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


class TimedSim(SimModem):
    """The product's simulator, noting when it emits +CMTI and when AT+CMGS= arrives.

    Timestamps are ``time.perf_counter()`` in this (the benchmark's) process: the simulator runs
    here, the daemon in its own process on the real pty.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cmti_at: list[float] = []
        self.cmgs_at: list[float] = []
        self.tap(on_command=self._on_command, on_urc=self._on_urc)

    def _on_urc(self, name: str) -> None:
        if name == "+CMTI":
            self.cmti_at.append(time.perf_counter())

    def _on_command(self, line: str) -> None:
        if line[:8].upper() == "AT+CMGS=":
            self.cmgs_at.append(time.perf_counter())


class DaemonProc(DaemonProcess):
    """The harness's daemon (``smsd run``, READY over a notify socket) with what benchmarks
    read from /proc: resident memory and CPU time."""

    def rss_kb(self) -> dict[str, int | None]:
        """VmRSS (now) and VmHWM (peak) of the daemon, in kB."""
        status = f"/proc/{self.pid}/status"
        return {"VmRSS": proc_status_kb(status, "VmRSS"), "VmHWM": proc_status_kb(status, "VmHWM")}

    def cpu(self) -> float:
        """CPU seconds (user + system) the daemon has used so far."""
        return cpu_seconds(self.pid)


def unit_environment(unit: Path = UNIT) -> dict[str, str]:
    """The ``Environment=KEY=value`` lines of the systemd unit: what production runs with
    (``MALLOC_ARENA_MAX`` among them), so the daemon benchmarks measure the same process."""
    env: dict[str, str] = {}
    for line in unit.read_text(encoding="utf-8").splitlines():
        key, _, value = line.strip().partition("=")
        if key == "Environment":
            name, _, setting = value.partition("=")
            env[name] = setting
    return env


@contextmanager
def daemon_running(
    workdir: Path, db: Path, devices: list[str], extra: list[str] | None = None
) -> Iterator[DaemonProc]:
    """A started (READY) daemon with the unit's environment, stopped with SIGTERM at the end
    (SIGKILL if it hangs); `extra`: more `smsd run` arguments."""
    with notify_socket(workdir) as listener:
        daemon = DaemonProc(workdir, db, devices, extra=extra, env=unit_environment())
        try:
            daemon.start(listener)
            yield daemon
        finally:
            daemon.stop()


def handset(i: int) -> str:
    """A distinct UK mobile number (Ofcom drama range) for sender ``i``."""
    return f"+4477009{i:05d}"
