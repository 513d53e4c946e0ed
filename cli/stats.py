"""``smsd stats``: counts of people and requests per cell, small cells suppressed.

The rule lives in `store.stats` and docs/PRIVACY.md; this module only formats what the store
publishes, as a table with a bar chart or as one JSON document.
"""

from __future__ import annotations

import click

from cli.context import Context, command_edge, pass_ctx
from cli.output import echo_json
from cli.render import safe, width
from store.stats import OTHER, WEEKDAYS

__all__ = ["stats"]

_BAR_WIDTH = 30
_BY = ("hour", "weekday", "code", "sector", "age", "gender", "country")


@click.command()
@click.option("--company", "company_name", help="Only this business's requests.")
@click.option(
    "--by",
    type=click.Choice(_BY),
    default="code",
    show_default=True,
    help="Break down by this dimension (hours and weekdays in UTC).",
)
@click.option(
    "--min-people",
    type=click.IntRange(min=2),
    default=5,
    show_default=True,
    help="Suppress cells with fewer distinct people (never below 2).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_ctx
@command_edge
def stats(ctx: Context, company_name: str | None, by: str, min_people: int, as_json: bool) -> None:
    """Distinct people and requests per hour, weekday, code, sector, age, gender or country.

    \b
    Example:
      smsd stats --company "Pizza Place" --by hour
    """
    # Not read-only: over all businesses, the store first folds the newest requests into its
    # statistics roll-ups (store/rollups.py). It never creates a database (exit 3 if missing).
    store = ctx.store(read_only=company_name is not None)
    breakdown = store.stats.breakdown(by, business=company_name, min_people=min_people)
    cells = [
        {
            "label": WEEKDAYS[int(c.label)] if by == "weekday" and c.label != OTHER else c.label,
            "people": c.people,
            "requests": c.requests,
            "share": c.share,
        }
        for c in breakdown.cells
    ]
    if as_json:
        echo_json(
            {
                "by": by,
                "company": breakdown.business,
                "min_people": breakdown.min_people,
                "cells": cells,
                "suppressed_cells": breakdown.suppressed,
                "total_people": breakdown.total_people,
                "total_requests": breakdown.total_requests,
            }
        )
        return
    _chart(cells)
    click.echo(
        f"total shown: {breakdown.total_people} people, {breakdown.total_requests} requests;"
        f" {breakdown.suppressed} cell(s) under {min_people} people suppressed"
    )


def _chart(cells: list[dict[str, object]]) -> None:
    if not cells:
        click.echo("nothing to show (every cell is below the privacy threshold)")
        return
    labels = [safe(c["label"]) for c in cells]
    columns = max(width(label) for label in labels)
    peak = max(int(str(c["people"])) for c in cells) or 1
    for label, c in zip(labels, cells, strict=True):
        people = int(str(c["people"]))
        bar = "#" * max(1, round(people * _BAR_WIDTH / peak))
        share = float(str(c["share"])) * 100
        click.echo(
            f"{label}{' ' * (columns - width(label))}  {bar.ljust(_BAR_WIDTH)}  {people:>6} people"
            f"  {c['requests']!s:>7} requests  {share:5.1f}%"
        )
