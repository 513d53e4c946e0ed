"""Helpers for the tests of the systemd units: read a unit, score and verify it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

__all__ = [
    "EXEC_START",
    "exposure",
    "needs_analyze",
    "open_items",
    "unit_settings",
    "verifiable_copy",
]

EXEC_START = "/opt/smsd/venv/bin/smsd"

needs_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed"
)


def unit_settings(unit: Path) -> dict[str, list[str]]:
    """Every Key=value of ``unit``, in order of appearance (keys may repeat)."""
    settings: dict[str, list[str]] = {}
    for line in unit.read_text().splitlines():
        if line.startswith(("#", "[")) or "=" not in line:
            continue
        key, _, value = line.partition("=")
        settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def verifiable_copy(unit: Path, tmp_path: Path) -> Path:
    """``unit`` with ExecStart pointed at an existing executable (the real one is not installed).

    `systemd-analyze verify` checks that ExecStart's binary exists; /opt/smsd/venv/bin/smsd only
    exists after `make install`, so everything else is verified on a copy that differs only in
    the executable's path.
    """
    text = unit.read_text()
    assert text.count(f"ExecStart={EXEC_START} ") == 1
    if not Path(EXEC_START).exists():
        text = text.replace(f"ExecStart={EXEC_START} ", f"ExecStart={sys.executable} ")
    copy = tmp_path / unit.name
    copy.write_text(text)
    return copy


def exposure(unit: Path) -> float:
    """The overall exposure `systemd-analyze security --offline=true` gives ``unit``."""
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--no-pager", str(unit)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    name = re.escape(unit.name)
    match = re.search(rf"Overall exposure level for {name}: (\d+\.\d+)", result.stdout)
    assert match is not None, result.stdout + result.stderr
    return float(match.group(1))


def open_items(unit: Path) -> list[str]:
    """The names of the security items left open (unset, with an exposure), sorted."""
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--json=short", str(unit)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    items = json.loads(result.stdout)
    return sorted(item["name"] for item in items if not item["set"] and item["exposure"])
