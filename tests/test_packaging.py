"""What `pip install .` ships: every package of the product, and the portal's templates."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROOMS = ("cli", "modem", "smsd", "store")


def test_every_package_is_listed_for_a_real_install() -> None:
    """`make install` is not editable: a package missing from the list is missing there."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for room in ROOMS
        for init in (ROOT / room).rglob("__init__.py")
    }
    assert found == listed


def test_portal_templates_are_package_data() -> None:
    """Every template and static file of `smsd web` matches a package-data pattern."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["smsd.web"]
    web = ROOT / "smsd" / "web"
    files = [p for d in ("templates", "static") for p in (web / d).rglob("*") if p.is_file()]
    assert files
    unmatched = [f for f in files if not any(f.relative_to(web).match(p) for p in patterns)]
    assert unmatched == []
