"""The example config shows the real defaults, every setting, and no active secret."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import smsd.config as settings

EXAMPLE = Path(__file__).parent.parent / "systemd" / "smsd.toml.example"
SECTIONS: dict[str, Any] = {
    "database": settings.DatabaseConfig(),
    "modems": settings.ModemConfig(url="unused"),
    "gateway": settings.GatewayConfig(),
    "limits": settings.LimitsConfig(),
    "outgoing": settings.OutgoingConfig(),
    "multipart": settings.MultipartConfig(),
    "modem": settings.ModemDefaultsConfig(),
    "billing": settings.BillingConfig(),
    "log": settings.LogConfig(),
    "web": settings.WebConfig(),
    "webhooks": settings.WebhooksConfig(),
    "texts": settings.TextsConfig(),
    "keywords": settings.KeywordsConfig(),
}
#: Sections whose every key the example shows; texts and keywords are in docs/RULES.md.
SHOWN_IN_FULL = [name for name in SECTIONS if name not in ("texts", "keywords")]
_EXAMPLE_LINE = re.compile(r"^\s*([a-z_]+)\s*=.*#\s*example\b")


def _norm(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Decimal | float | int) and not isinstance(value, bool):
        return Decimal(str(value))
    return value


def _example_keys() -> set[str]:
    return {
        m.group(1) for line in EXAMPLE.read_text().splitlines() if (m := _EXAMPLE_LINE.match(line))
    }


def test_every_active_setting_is_its_default() -> None:
    """Each active key not marked "# example" holds exactly the code's default."""
    data = tomllib.loads(EXAMPLE.read_text())
    examples = _example_keys()
    wrong = []
    for section, defaults in SECTIONS.items():
        table = data[section][0] if section == "modems" else data[section]
        for key, value in table.items():
            if key in examples:
                continue
            if _norm(getattr(defaults, key)) != _norm(value):
                wrong.append(f"[{section}] {key} = {value!r}, default {getattr(defaults, key)!r}")
    assert not wrong


def test_every_setting_is_shown() -> None:
    """Every field of the core sections appears in the example, active or commented."""
    text = EXAMPLE.read_text()
    missing = [
        f"[{section}] {field.name}"
        for section in SHOWN_IN_FULL
        for field in dataclasses.fields(SECTIONS[section])
        if not re.search(rf"^#?\s*{field.name}\s*=", text, re.MULTILINE)
    ]
    assert not missing


def test_secrets_are_commented_out() -> None:
    """No PIN or password is active in the example."""
    data = tomllib.loads(EXAMPLE.read_text())
    assert all("pin" not in modem for modem in data["modems"])
    active = re.findall(r"^\s*(pin|password\w*)\s*=", EXAMPLE.read_text(), re.MULTILINE)
    assert not active
