"""Output helpers: an aligned table for people, one JSON document for programs.

Every cell goes through `cli.render.cell` (hostile text made visible, timestamps in one
format) and is padded by its display width, so wide characters and emoji keep columns aligned.
JSON keeps stored values (UTC timestamps) and escapes what a terminal would act on.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import click

from cli.render import cell, width

__all__ = [
    "echo_fields",
    "echo_json",
    "echo_table",
    "escape_json_text",
    "json_text",
    "to_jsonable",
]


def to_jsonable(value: Any) -> Any:
    """Turn datetimes into ISO strings, dataclasses into dicts, recursively."""
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "__dataclass_fields__"):
        return {k: to_jsonable(getattr(value, k)) for k in value.__dataclass_fields__}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value


def escape_json_text(text: str) -> str:
    """JSON text with DEL, C1 and bidi/format characters \\u-escaped (still the same JSON).

    json.dumps escapes C0 controls; the others are legal JSON but a terminal acts on some of
    them. Outside strings JSON has only ASCII, so escaping them anywhere is safe.
    """
    if text.isascii() and "\x7f" not in text:
        return text
    return "".join(f"\\u{ord(ch):04x}" if _terminal_active(ch) else ch for ch in text)


def _terminal_active(ch: str) -> bool:
    code = ord(ch)
    return 0x7F <= code < 0xA0 or (code > 0xA0 and not ch.isprintable() and ch != "\u200d")


def json_text(document: Any) -> str:
    """One JSON document with stable (sorted) keys, safe to show on a terminal."""
    text = json.dumps(to_jsonable(document), indent=2, sort_keys=True, ensure_ascii=False)
    return escape_json_text(text)


def echo_json(document: Any) -> None:
    """Print one JSON document with stable (sorted) keys."""
    click.echo(json_text(document))


def _pad(text: str, columns: int) -> str:
    return text + " " * (columns - width(text))


def echo_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], empty: str = "") -> None:
    """Print rows as an aligned text table with a header line."""
    if not rows:
        if empty:
            click.echo(empty)
        return
    cells = [[cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(width(c), *(width(r[i]) for r in cells)) for i, c in enumerate(columns)]
    click.echo("  ".join(_pad(c, w) for c, w in zip(columns, widths, strict=True)).rstrip())
    click.echo("  ".join("-" * w for w in widths))
    for row in cells:
        click.echo("  ".join(_pad(v, w) for v, w in zip(row, widths, strict=True)).rstrip())


def echo_fields(fields: Mapping[str, Any], indent: str = "") -> None:
    """Print ``key: value`` lines, each value rendered as a table cell."""
    for key, value in fields.items():
        click.echo(f"{indent}{key}: {cell(value)}".rstrip())
