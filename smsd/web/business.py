"""A signed-in business's pages: dashboard, caller history (paged, filtered, CSV), statistics
with k = 5 suppression, invoices. Every read goes through `BusinessView` or `store.stats`
(the privacy views): user codes, keywords, counts and times, never a phone number or a name.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from smsd.web.charts import bar_chart
from smsd.web.pages import FormError, Visit, page
from store.business_view import DIMENSIONS, BusinessView, HistoryCursor
from store.errors import NotFound
from store.stats import DEFAULT_MIN_PEOPLE

__all__ = ["HistoryQuery", "routes", "view_of"]

PAGE_SIZE = 50
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def view_of(visit: Visit) -> BusinessView:
    """The signed-in business's privacy view."""
    assert visit.session is not None
    return BusinessView(visit.ctx.store.directory, visit.session.subject)


def _day(raw: str, name: str) -> datetime | None:
    if not raw:
        return None
    try:
        return datetime.combine(date.fromisoformat(raw), datetime.min.time(), UTC)
    except ValueError as exc:
        raise FormError(f"{name}: expected a date YYYY-MM-DD") from exc


@dataclass(frozen=True)
class HistoryQuery:
    """The history filters from the query string: code, first and last day, page cursor."""

    code: str | None
    since: datetime | None
    until: datetime | None
    before: HistoryCursor | None

    @classmethod
    def parse(cls, visit: Visit, view: BusinessView) -> HistoryQuery:
        """Read and check the filters (`FormError` names a bad one)."""
        q = visit.request.query_params
        code = q.get("code", "").strip().upper() or None
        if code is not None and code not in _keywords(visit, view):
            raise FormError("code: not one of your codes")
        until = _day(q.get("until", "").strip(), "until")
        before = None
        if q.get("before"):
            try:
                micros, _, request_id = q["before"].partition("-")
                before = HistoryCursor(
                    _EPOCH + timedelta(microseconds=int(micros)), int(request_id)
                )
            except ValueError as exc:
                raise FormError("before: not a page of this history") from exc
        return cls(
            code,
            _day(q.get("since", "").strip(), "since"),
            None if until is None else until + timedelta(days=1),
            before,
        )


def _keywords(visit: Visit, view: BusinessView) -> list[str]:
    """The business's own keywords (cheap: the codes table only, no counts)."""
    return [c.keyword for c in visit.ctx.store.directory.list_codes(view.business.id)]


def _cursor(cursor: HistoryCursor | None) -> str | None:
    if cursor is None:
        return None
    micros = (cursor.at - _EPOCH) // timedelta(microseconds=1)
    return f"{micros}-{cursor.request_id}"


@page("business", snapshot=True)
def dashboard(visit: Visit) -> Response:
    """Requests and new opt-ins today and this week, people opted in, codes with counts."""
    ctx = visit.ctx
    view = view_of(visit)
    today = visit.now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    week = today - timedelta(days=today.weekday())
    return visit.render(
        "business/dashboard.html",
        business=view.business,
        pending=ctx.store.web.is_pending(view.business.id),
        today=ctx.store.web.counts_since(view.business.id, today),
        week=ctx.store.web.counts_since(view.business.id, week),
        optins=view.optin_counts(),
        codes=_keywords(visit, view),
        recent=ctx.store.web.recent_optins(view.business.id),
    )


@page("business", snapshot=True)
def history(visit: Visit) -> Response:
    """Caller history by user code, newest page first, with filters and a CSV link."""
    view = view_of(visit)
    values = dict(visit.request.query_params)
    try:
        query = HistoryQuery.parse(visit, view)
    except FormError as exc:
        return visit.render(
            "business/history.html", status=400, error=str(exc), values=values,
            business=view.business, rows=[], total=0, older=None, codes=_keywords(visit, view),

        )  # fmt: skip
    args = (query.code, query.since, query.until)
    shown = view.page(*args, limit=PAGE_SIZE, before=query.before)
    return visit.render(
        "business/history.html",
        business=view.business,
        values=values,
        rows=list(reversed(shown.rows)),
        total=view.count_history(*args),
        older=_cursor(shown.before),
        codes=_keywords(visit, view),
    )


@page("business")
def history_csv(visit: Visit) -> Response:
    """The filtered history as CSV (user code, code, time), audited as `smsd export` is."""
    view = view_of(visit)
    query = HistoryQuery.parse(visit, view)
    args = (query.code, query.since, query.until)
    total = view.count_history(*args)
    name = view.business.name
    visit.ctx.store.audit.record_audit(
        f"web:business:{name}", "export", name, f"csv, {total} rows", now=visit.now
    )

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["user_code", "code", "at"])
        for row in view.iter_history(*args):
            writer.writerow([row.user_code, row.keyword, row.at.isoformat()])
            if buffer.tell() > 8192:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="history.csv"'},
    )


@page("business", snapshot=True)
def callers(visit: Visit) -> Response:
    """Each caller (by user code) with the code, how many times they requested it, and when
    last; filtered as the history, 50 a page."""
    view = view_of(visit)
    values = dict(visit.request.query_params)
    query = HistoryQuery.parse(visit, view)
    try:
        offset = max(0, int(values.get("offset", "0")))
    except ValueError as exc:
        raise FormError("offset: not a page of this list") from exc
    code_id = None
    if query.code is not None:
        code_id = visit.ctx.store.directory.get_code(query.code).id
    rows = visit.ctx.store.web.callers(
        view.business.id, code_id=code_id, since=query.since, until=query.until,
        limit=PAGE_SIZE + 1, offset=offset,
    )  # fmt: skip
    return visit.render(
        "business/callers.html",
        business=view.business,
        values=values,
        rows=rows[:PAGE_SIZE],
        offset=offset,
        more=len(rows) > PAGE_SIZE,
        page_size=PAGE_SIZE,
        codes=_keywords(visit, view),
    )


@page("business", snapshot=True)
def stats(visit: Visit) -> Response:
    """One breakdown with the CLI's suppression (cells under k = 5 people hidden), charted."""
    view = view_of(visit)
    by = visit.request.query_params.get("by", "hour")
    if by not in DIMENSIONS:
        raise NotFound(by)
    breakdown = visit.ctx.store.stats.breakdown(
        by, business=view.business.id, min_people=DEFAULT_MIN_PEOPLE
    )
    chart = bar_chart(
        f"Requests by {by} (cells under {breakdown.min_people} people suppressed)",
        [(c.label, c.requests) for c in breakdown.cells],
    )
    return visit.render(
        "business/stats.html",
        business=view.business,
        by=by,
        dimensions=list(DIMENSIONS),
        breakdown=breakdown,
        chart=chart,
    )


@page("business", snapshot=True)
def invoices(visit: Visit) -> Response:
    """The business's invoices."""
    view = view_of(visit)
    listed = visit.ctx.store.invoices.list_invoices(view.business.id)
    return visit.render("business/invoices.html", business=view.business, invoices=listed)


@page("business", snapshot=True)
def invoice(visit: Visit) -> Response:
    """One invoice, printable; another business's number is 404."""
    view = view_of(visit)
    found = visit.ctx.store.invoices.get_invoice(visit.request.path_params["number"])
    if found.business.casefold() != view.business.name.casefold():
        raise NotFound("no such invoice")
    return visit.render("business/invoice.html", business=view.business, invoice=found)


def routes() -> list[Route]:
    """A signed-in business's read-only pages, under /business."""
    return [
        Route("/business", dashboard, methods=["GET"]),
        Route("/business/history", history, methods=["GET"]),
        Route("/business/history.csv", history_csv, methods=["GET"]),
        Route("/business/callers", callers, methods=["GET"]),
        Route("/business/stats", stats, methods=["GET"]),
        Route("/business/invoices", invoices, methods=["GET"]),
        Route("/business/invoices/{number}", invoice, methods=["GET"]),
    ]
