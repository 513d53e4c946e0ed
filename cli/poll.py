"""``smsd poll``: polls answered by keyword (``VOTE B``); results with small cells suppressed."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from cli.context import Context, command_edge, pass_ctx
from cli.output import echo_json, echo_table
from cli.render import safe

__all__ = ["poll"]


@click.group()
def poll() -> None:
    """Polls by keyword: create, results, close.

    \b
    Example:
      smsd poll create "Pizza Place" --code VOTE --options "Margherita,Pepperoni,Veggie"
      smsd poll results VOTE
    """


@poll.command("create")
@click.argument("company_name", metavar="COMPANY")
@click.option("--code", "keyword", required=True, help="The keyword people text, e.g. VOTE.")
@click.option("--options", required=True, help="Comma-separated single-word options: A,B,C.")
@click.option("--closes", type=click.DateTime(), help="Closing date/time (UTC).")
@pass_ctx
@command_edge
def poll_create(
    ctx: Context, company_name: str, keyword: str, options: str, closes: datetime | None
) -> None:
    """Create the code and its poll: ``CODE <option>`` counts once per person (last one wins).

    \b
    Example:
      smsd poll create "Pizza Place" --code VOTE --options "A,B,C" --closes 2026-12-31T18:00
    """
    now = datetime.now(UTC)
    choices = [o for o in options.split(",") if o.strip()]
    store = ctx.store()
    with store.transaction():
        reply = f"{{business}}: text {keyword.strip().upper()} and one of: {', '.join(choices)}"
        code = store.directory.add_code(company_name, keyword, reply, "poll", now=now)
        created = store.polls.create(
            code.id, code.business_id, choices, now=now,
            closes_at=None if closes is None else closes.replace(tzinfo=UTC),
        )  # fmt: skip
    click.echo(f"poll {safe(created.keyword)} created: {safe(', '.join(created.options))}")


@poll.command("results")
@click.argument("keyword", metavar="CODE")
@click.option("--min-people", "k", type=click.IntRange(min=2), default=5, show_default=True,
              help="Options chosen by fewer people are shown as suppressed.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_ctx
@command_edge
def poll_results(ctx: Context, keyword: str, k: int, as_json: bool) -> None:
    """Votes per option; an option with fewer than --min-people voters shows "<k".

    \b
    Example:
      smsd poll results VOTE --json
    """
    store = ctx.store(read_only=True)
    result = store.polls.results(store.polls.for_keyword(keyword).id, k=k)
    if as_json:
        echo_json(result)
        return
    rows = [{"option": o, "votes": f"<{k}" if n is None else n} for o, n in result.counts]
    echo_table(rows, ["option", "votes"])
    state = "open" if result.poll.is_open(datetime.now(UTC)) else "closed"
    voters = f"<{k}" if result.voters is None else result.voters
    click.echo(f"voters {voters}; {state}")


@poll.command("close")
@click.argument("keyword", metavar="CODE")
@pass_ctx
@command_edge
def poll_close(ctx: Context, keyword: str) -> None:
    """Close the poll now; later votes are answered "closed".

    \b
    Example:
      smsd poll close VOTE
    """
    store = ctx.store()
    closed = store.polls.close(store.polls.for_keyword(keyword).id, now=datetime.now(UTC))
    click.echo(f"poll {safe(closed.keyword)} closed")
