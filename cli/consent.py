"""``smsd consent``: the consent record (every opt-in, opt-out, pending double opt-in); audited."""

from __future__ import annotations

from typing import Literal, cast

import click

from cli.context import Context, command_edge, pass_ctx
from cli.filters import export_options
from cli.operator import operator_name, write_private
from cli.output import escape_json_text
from smsd.operator_views import consent_document

__all__ = ["consent"]


@click.group()
def consent() -> None:
    """Consent records: export every opt-in and opt-out, as a regulator would ask for them.

    \b
    Example:
      smsd consent export --company "Pizza Place" --format csv --output pizza-consent.csv
    """


@consent.command("export")
@click.option("--company", "company_name", help="Only this business's records (by user code).")
@click.option("--user-code", help="Only this person's records.")
@export_options
@pass_ctx
@command_edge
def consent_export(
    ctx: Context, company_name: str | None, user_code: str | None, fmt: str, output: str | None
) -> None:
    """Export opt-ins, opt-outs and pending double opt-ins with time, channel, text, confirmation.

    Each row: time (UTC), user code, business (empty for a STOP/START that named none), kind
    (in, out, pending), channel (sms, web, api, operator), the keyword as read, the text as
    received, the confirmation queued in answer and its delivery state. Never a phone number.

    \b
    Example:
      smsd consent export --company "Pizza Place" --format json
      smsd consent export --user-code ABC234
    """
    store = ctx.store()
    business = None if company_name is None else store.directory.get_business(company_name)
    code = None if user_code is None else user_code.strip().upper()
    records = store.consent.records(
        business_id=None if business is None else business.id, user_code=code
    )
    subject = business.name if business is not None else (code or "all")
    store.audit.record_audit(
        operator_name(), "consent_export", subject, f"{fmt}, {len(records)} rows"
    )
    text = consent_document(records, cast(Literal["csv", "json"], fmt))
    if fmt == "json":
        text = escape_json_text(text)  # C1 and bidi controls too, not only C0
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        write_private(output, text)
        click.echo(f"exported {len(records)} records to {output}", err=True)
