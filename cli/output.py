"""Output helpers: a plain table for people, one JSON document for programs."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import click

__all__ = ["echo_json", "echo_table", "to_jsonable"]


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


def echo_json(document: Any) -> None:
    """Print one JSON document with stable (sorted) keys."""
    click.echo(json.dumps(to_jsonable(document), indent=2, sort_keys=True, ensure_ascii=False))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def echo_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], empty: str = "") -> None:
    """Print rows as an aligned text table with a header line."""
    if not rows:
        if empty:
            click.echo(empty)
        return
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    click.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    click.echo("  ".join("-" * w for w in widths))
    for row in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
