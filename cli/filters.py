"""Options commands share: the request filters (--code, --since, --until) of `history` and
`export`, and the export options (--format, --output) of `export` and `consent export`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import click

__all__ = ["export_options", "history_filters", "utc"]

F = TypeVar("F", bound=Callable[..., object])


def utc(value: datetime | None) -> datetime | None:
    """A naive --since/--until value read as UTC."""
    return None if value is None else value.replace(tzinfo=UTC)


def history_filters(func: F) -> F:
    """Add --code, --since and --until to a command."""
    for option in reversed(
        [
            click.option("--code", "keyword", help="Only requests for this code."),
            click.option("--since", type=click.DateTime(), help="From this date/time (UTC)."),
            click.option("--until", type=click.DateTime(), help="Before this date/time (UTC)."),
        ]
    ):
        func = option(func)
    return func


def export_options(func: F) -> F:
    """Add --format csv|json (default csv) and --output FILE (written 0600) to a command."""
    for option in reversed(
        [
            click.option(
                "--format",
                "fmt",
                type=click.Choice(["csv", "json"]),
                default="csv",
                show_default=True,
                help="Output format.",
            ),
            click.option("--output", type=click.Path(dir_okay=False), help="Write to FILE (0600)."),
        ]
    ):
        func = option(func)
    return func
