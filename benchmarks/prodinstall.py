"""A production-shaped install of this checkout, for benchmarks that time fresh processes.

docs/DEPLOYING.md installs smsactive as ``systemd/install.sh`` does: ``apt install python3
python3-venv``, then a venv under ``/opt/smsd`` made by Debian's ``python3`` with the package
installed from the checkout, not editable (the unit's ``ProtectHome=yes`` forbids an editable
one), its bytecode compiled by pip. The development venv differs in two ways that only cost
start-up time: its ``python3`` may be another build (pyenv's, without PGO, is ~1.8x slower to
import the standard library here), and the editable install's import finder loads pathlib,
urllib and importlib.util into every process (~20 ms). This module builds the production shape
in a scratch folder: the wheel of this checkout in a fresh venv of the system interpreter; the
dependencies are this venv's (a ``.pth`` line, no network), which works because the minor
versions must match (checked).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["ProductionInstall", "build", "system_python"]

ROOT = Path(__file__).resolve().parent.parent
#: The interpreter DEPLOYING.md's ``apt install python3 python3-venv`` provides.
SYSTEM_PYTHON = Path("/usr/bin/python3")
#: The top-level packages the wheel holds (pyproject.toml's packages are under these).
PACKAGES = ("smsd", "modem", "store", "cli")


class ProductionInstall:
    """A venv holding this checkout's wheel: its ``python`` and its ``smsd`` console script."""

    def __init__(self, venv: Path) -> None:
        self.venv = venv
        self.python = venv / "bin" / "python"
        self.smsd = venv / "bin" / "smsd"


def _minor(python: Path | str) -> str:
    done = subprocess.run(
        [str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    return done.stdout.strip() if done.returncode == 0 else ""


def system_python() -> Path:
    """Debian's ``/usr/bin/python3`` when it has this venv's minor version and can make venvs;
    else the interpreter this venv was made from."""
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if SYSTEM_PYTHON.exists() and _minor(SYSTEM_PYTHON) == here:
        probe = subprocess.run(
            [str(SYSTEM_PYTHON), "-c", "import venv"], capture_output=True, timeout=30
        )
        if probe.returncode == 0:
            return SYSTEM_PYTHON
    return Path(getattr(sys, "_base_executable", sys.executable))


def _site_packages(python: Path | str) -> str:
    done = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return done.stdout.strip()


def _source(workdir: Path) -> Path:
    """A copy of what the wheel is built from (setuptools writes build/ into its source)."""
    source = workdir / "source"
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in PACKAGES:
        shutil.copytree(ROOT / name, source / name, ignore=skip)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    return source


def build(workdir: Path) -> ProductionInstall:
    """Build the wheel of this checkout and install it into a fresh venv under `workdir`."""
    wheels = workdir / "wheel"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "-w", str(wheels), str(_source(workdir))],
        check=True,
        capture_output=True,
        timeout=600,
    )
    install = ProductionInstall(workdir / "venv")
    subprocess.run(
        [str(system_python()), "-m", "venv", "--without-pip", str(install.venv)],
        check=True,
        timeout=120,
    )
    deps = Path(_site_packages(install.python)) / "smsd-benchmark-deps.pth"
    deps.write_text(_site_packages(sys.executable) + "\n")
    (wheel,) = wheels.glob("smsactive-*.whl")
    subprocess.run(
        [*pip, "--python", str(install.python), "install", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return install
