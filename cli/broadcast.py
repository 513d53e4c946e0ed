"""``smsd broadcast``: queue or schedule a message to everyone opted in to a business.

``smsd broadcast COMPANY TEXT`` is short for ``smsd broadcast queue COMPANY TEXT``; ``list``
and ``cancel`` manage scheduled ones. Every broadcast can be previewed (``--dry-run``), asks
before queueing unless ``--yes``, and is refused when the same text went to the same business
within ``[limits] broadcast_repeat_hours`` unless ``--force`` (see docs/RULES.md).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any, cast

import click

from cli.context import Context, command_edge, pass_ctx
from cli.operator import operator_name
from cli.output import echo_json, echo_table
from cli.render import safe, stamp
from smsd.operator import check_parts, check_repeat
from smsd.operator_views import BroadcastPreview, preview_broadcast
from smsd.scheduler import queue_broadcast
from smsd.settings import BroadcastPolicy
from store.rules_models import Recurrence
from store.store import Store

__all__ = ["broadcast"]


class _DefaultToQueue(click.Group):
    """A group whose first argument, when not a subcommand, belongs to ``queue``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["queue", *args]
        return super().parse_args(ctx, args)


def _when(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected an ISO 8601 time, got {value!r}") from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


@click.group(cls=_DefaultToQueue)
def broadcast() -> None:
    """Queue TEXT to every person opted in to COMPANY, within its daily cap and quiet hours.

    \b
    Example:
      smsd broadcast "Pizza Place" "Half price tonight. Reply STOP to opt out." --dry-run
      smsd broadcast "Pizza Place" "Lunch deal" --at 2026-12-05T11:30 --every weekly --yes
      smsd broadcast list
    """


@broadcast.command("queue")
@click.argument("company_name", metavar="COMPANY")
@click.argument("text")
@click.option("--at", "at", callback=_when, help="Send at this time (ISO 8601; UTC if no offset).")
@click.option("--every", type=click.Choice(["daily", "weekly"]), help="Repeat (with --at).")
@click.option("--dry-run", is_flag=True, help="Show recipients, parts and cost; queue nothing.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--force", is_flag=True, help="Send even if the same text went out recently.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON document.")
@pass_ctx
@command_edge
def broadcast_queue(
    ctx: Context, company_name: str, text: str, at: datetime | None, every: str | None,
    dry_run: bool, yes: bool, force: bool, as_json: bool,
) -> None:  # fmt: skip
    """Queue (or with --at, schedule) TEXT to everyone opted in to COMPANY.

    \b
    Example:
      smsd broadcast queue "Pizza Place" "Half price tonight" --yes
    """
    config = ctx.config()
    policy = config.broadcast_policy()
    check_parts(text, policy.max_parts)
    store = ctx.store()
    preview = preview_broadcast(
        store, company_name, text,
        price_per_part=config.billing.price_per_broadcast_part, currency=config.billing.currency,
    )  # fmt: skip
    if dry_run:
        document = {**preview.__dict__, "cost": str(preview.cost), "dry_run": True}
        _report(as_json, document, f"dry run: {_summary(preview)}")
        return
    now = datetime.now(UTC)
    business = store.directory.get_business(company_name)
    check_repeat(store, business.id, text, now - policy.repeat_window, force=force)
    when = "" if at is None else f" at {stamp(at)}" + (f", {every}" if every else "")
    if not yes:
        click.confirm(
            f"Queue to {safe(business.name)}{when}: {_summary(preview)}?", abort=True, err=True
        )
    if at is None and every is None:
        _queue_now(store, business.id, text, now, policy, preview, as_json)
        return
    schedule = store.schedules.add(
        business.id, text, at or now, every=cast(Recurrence | None, every), now=now,
        actor=operator_name(),
    )  # fmt: skip
    document = {"scheduled": schedule.id, "next_at": schedule.next_at, "every": every}
    _report(as_json, document, f"scheduled broadcast {schedule.id}{when}")


def _summary(preview: BroadcastPreview) -> str:
    return (
        f"{preview.recipients} recipient{'s' if preview.recipients != 1 else ''},"
        f" {preview.parts} part{'s' if preview.parts != 1 else ''} each,"
        f" {preview.messages} messages, cost {preview.cost} {preview.currency}"
    )


def _queue_now(
    store: Store, business_id: int, text: str, now: datetime, policy: BroadcastPolicy,
    preview: BroadcastPreview, as_json: bool,
) -> None:  # fmt: skip
    with click.progressbar(length=preview.recipients, label="queueing", file=sys.stderr) as bar:
        result = queue_broadcast(store, business_id, text, now, policy, progress=bar.update)
    document = {
        "queued": result.queued,
        "skipped_opted_out": result.skipped_opted_out,
        "capped": result.capped,
        "due_at": result.due_at,
    }
    line = (
        f"queued {result.queued}, skipped opted-out {result.skipped_opted_out},"
        f" capped {result.capped}; {preview.parts} part(s) each"
    )
    _report(as_json, document, line)


def _report(as_json: bool, document: dict[str, Any], line: str) -> None:
    if as_json:
        echo_json(document)
    else:
        click.echo(line)


@broadcast.command("list")
@click.option("--company", "company_name", help="Only this business's schedules.")
@click.option("--all", "include_done", is_flag=True, help="Also those that ran or were cancelled.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_ctx
@command_edge
def broadcast_list(
    ctx: Context, company_name: str | None, include_done: bool, as_json: bool
) -> None:
    """Scheduled broadcasts, next first.

    \b
    Example:
      smsd broadcast list --company "Pizza Place"
    """
    store = ctx.store(read_only=True)
    business = None if company_name is None else store.directory.get_business(company_name)
    schedules = store.schedules.list_all(
        business_id=None if business is None else business.id, include_done=include_done
    )
    if as_json:
        echo_json(schedules)
        return
    rows = [
        {"id": s.id, "business": s.business, "next_at": s.next_at, "every": s.every or "",
         "runs": s.runs, "text": click.unstyle(s.text)[:40]}
        for s in schedules
    ]  # fmt: skip
    echo_table(rows, ["id", "business", "next_at", "every", "runs", "text"], empty="none scheduled")


@broadcast.command("cancel")
@click.argument("schedule_id", type=int, metavar="ID")
@pass_ctx
@command_edge
def broadcast_cancel(ctx: Context, schedule_id: int) -> None:
    """Cancel scheduled broadcast ID (it will not run again).

    \b
    Example:
      smsd broadcast cancel 3
    """
    cancelled = ctx.store().schedules.cancel(schedule_id, now=datetime.now(UTC))
    click.echo(f"cancelled scheduled broadcast {cancelled.id}")
