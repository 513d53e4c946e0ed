"""`BusinessView`: everything a business may see, and nothing else.

Its queries select only from the privacy views of migrations 002 and 004 (`business_requests`,
`business_optins`, `business_broadcasts`, `request_facts`, `request_keys`, `optin_keys`,
`person_facts`, `business_facts`) and the business's own `codes`: none of them has a column
that could hold a phone number, a name, an email or message text, so no method here can return
one, whatever a caller asks for. History, export, stats and invoices are built on this class.

Every per-business query starts from the covering index `requests_business_at_cover`
(business_id, at, id, person_id, code_id): history pages by the keyset (at, id) in index order,
and counts and breakdowns join people only when the breakdown is a person's attribute.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from store.base import from_ts, to_ts
from store.directory import Directory
from store.errors import InvalidInput
from store.models import Business, HistoryRow

__all__ = [
    "BUSINESS_VIEWS",
    "DIMENSIONS",
    "BusinessView",
    "CodeCount",
    "Dimension",
    "HistoryCursor",
    "HistoryPage",
    "cells_sql",
]

#: The views business-facing queries may read (tests check their columns).
BUSINESS_VIEWS = (
    "business_requests",
    "business_optins",
    "business_broadcasts",
    "request_facts",
    "request_keys",
    "optin_keys",
    "person_facts",
    "business_facts",
)

Dimension = Literal["hour", "weekday", "code", "sector", "age", "gender", "country"]

#: Stats dimension -> (key over `request_keys` g, join, cell expression). Constant SQL only.
_CELLS: dict[str, tuple[str, str, str]] = {
    "hour": ("substr(at, 12, 2)", "", "g.key"),
    "weekday": ("strftime('%w', substr(at, 1, 19))", "", "g.key"),
    "code": ("code_id", " JOIN codes c ON c.id = g.key", "c.keyword"),
    "sector": ("''", " JOIN business_facts f ON f.business_id = g.business_id", "f.sector"),
    "age": ("''", " JOIN person_facts f ON f.person_id = g.person_id", "f.age_band"),
    "gender": ("''", " JOIN person_facts f ON f.person_id = g.person_id", "f.gender"),
    "country": ("''", " JOIN person_facts f ON f.person_id = g.person_id", "f.country"),
}
#: The stats dimensions (the keys of the SQL table above).
DIMENSIONS: dict[str, str] = {by: cell for by, (_, _, cell) in _CELLS.items()}
_CHUNK = 500
_HISTORY_SELECT = (
    "SELECT k.request_id, p.user_code, c.keyword, k.at FROM request_keys k"
    " JOIN person_facts p ON p.person_id = k.person_id JOIN codes c ON c.id = k.code_id"
)


def cells_sql(by: str, *, one_business: bool, where: str = "") -> str:
    """SQL giving (business_id, cell, person_id, requests) rows for the breakdown `by`.

    People are grouped first over `request_keys` alone (index-only), so the attribute join
    touches each person once; with `one_business` it takes the business id as parameter 1.
    `where` (constant SQL over `request_keys`, its parameters after that one) narrows it.
    """
    spec = _CELLS.get(by)
    if spec is None:
        raise InvalidInput(f"cannot break down by {by!r}; choose from {', '.join(_CELLS)}")
    key, join, cell = spec
    conditions = (["business_id = ?"] if one_business else []) + ([where] if where else [])
    where = " WHERE " + " AND ".join(conditions) if conditions else ""
    return (
        f"SELECT g.business_id, {cell} AS cell, g.person_id, g.n FROM"  # noqa: S608 - constant
        f" (SELECT business_id, {key} AS key, person_id, count(*) AS n FROM request_keys{where}"
        " GROUP BY business_id, key, person_id) g" + join
    )


@dataclass(frozen=True)
class CodeCount:
    """Requests and distinct requesters for one of the business's codes."""

    keyword: str
    paused: bool
    requests: int
    people: int


@dataclass(frozen=True)
class HistoryCursor:
    """Where a history page ended: the (time, request id) keyset of its oldest row."""

    at: datetime
    request_id: int


@dataclass(frozen=True)
class HistoryPage:
    """Up to `limit` rows, oldest first, and the cursor of the next older page (None: no more)."""

    rows: tuple[HistoryRow, ...]
    before: HistoryCursor | None


def _history_row(row: Sequence[Any]) -> HistoryRow:
    at = from_ts(row[3])
    assert at is not None
    return HistoryRow(row[1], row[2], at)


class BusinessView:
    """Read-only, privacy-preserving queries about one business."""

    def __init__(self, directory: Directory, business: int | str) -> None:
        self._directory = directory
        self.business: Business = directory.get_business(business)

    def _tuples(self, sql: str, params: Sequence[Any]) -> list[Any]:
        with self._directory.core.transaction(write=False) as db:
            return db.conn.execute(sql, params).fetchall()

    def _filters(
        self, code: str | None, since: datetime | None, until: datetime | None
    ) -> tuple[str, list[Any]]:
        sql = " WHERE k.business_id = ?"
        params: list[Any] = [self.business.id]
        if code is not None:
            sql += " AND k.code_id = ?"
            params.append(self._directory.get_code(code).id)
        if since is not None:
            sql += " AND k.at >= ?"
            params.append(to_ts(since))
        if until is not None:
            sql += " AND k.at < ?"
            params.append(to_ts(until))
        return sql, params

    def history(
        self,
        code: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        limit: int | None = None,
    ) -> list[HistoryRow]:
        """Requests (user code, keyword, time), oldest first; with `limit`, the latest `limit`."""
        if limit is None:
            return list(self.iter_history(code, since, until))
        return list(self.page(code, since, until, limit=limit).rows)

    def page(
        self,
        code: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        limit: int = 100,
        before: HistoryCursor | None = None,
    ) -> HistoryPage:
        """The latest `limit` requests older than `before` (all when None), oldest first."""
        if limit < 1:
            raise InvalidInput("limit must be at least 1")
        where, params = self._filters(code, since, until)
        if before is not None:
            stamp = to_ts(before.at)
            where += " AND k.at <= ? AND (k.at < ? OR k.request_id < ?)"
            params += [stamp, stamp, before.request_id]
        rows = self._tuples(
            _HISTORY_SELECT + where + " ORDER BY k.at DESC, k.request_id DESC LIMIT ?",
            [*params, limit + 1],
        )
        more = len(rows) > limit
        rows = rows[:limit]
        cursor = None
        if more:
            at = from_ts(rows[-1][3])
            assert at is not None
            cursor = HistoryCursor(at, int(rows[-1][0]))
        return HistoryPage(tuple(_history_row(r) for r in reversed(rows)), cursor)

    def count_history(
        self,
        code: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> int:
        """How many rows `history` would return."""
        where, params = self._filters(code, since, until)
        sql = "SELECT count(*) FROM request_keys k" + where  # noqa: S608 - constant SQL
        rows = self._tuples(sql, params)
        return int(rows[0][0])

    def iter_history(
        self,
        code: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[HistoryRow]:
        """Like `history`, read in chunks by the keyset (at, id) (for large exports)."""
        where, params = self._filters(code, since, until)
        after: tuple[str, int] | None = None
        while True:
            more = "" if after is None else " AND k.at >= ? AND (k.at > ? OR k.request_id > ?)"
            extra: list[Any] = [] if after is None else [after[0], after[0], after[1]]
            rows = self._tuples(
                _HISTORY_SELECT + where + more + " ORDER BY k.at, k.request_id LIMIT ?",
                [*params, *extra, _CHUNK],
            )
            for r in rows:
                yield _history_row(r)
            if len(rows) < _CHUNK:
                return
            after = (str(rows[-1][3]), int(rows[-1][0]))

    def code_counts(self) -> list[CodeCount]:
        """Each of the business's codes with its requests and distinct requesters."""
        rows = self._tuples(
            "SELECT c.keyword, c.paused, coalesce(g.requests, 0), coalesce(g.people, 0)"
            " FROM codes c LEFT JOIN (SELECT code_id, count(*) AS requests,"
            "  count(DISTINCT person_id) AS people FROM request_keys WHERE business_id = ?1"
            "  GROUP BY code_id) g ON g.code_id = c.id"
            " WHERE c.business_id = ?1 ORDER BY c.keyword",
            (self.business.id,),
        )
        return [CodeCount(r[0], bool(r[1]), int(r[2]), int(r[3])) for r in rows]

    def optin_counts(self) -> dict[str, int]:
        """{'in': people currently opted in, 'out': people whose latest event is an opt-out}."""
        # Each person's latest event (portable: no bare column beside max()).
        rows = self._tuples(
            "SELECT kind, count(*) FROM optin_keys WHERE event_id IN (SELECT max(event_id)"
            " FROM optin_keys WHERE business_id = ?1 GROUP BY person_id) GROUP BY kind",
            (self.business.id,),
        )
        counts = {"in": 0, "out": 0}
        counts.update({str(r[0]): int(r[1]) for r in rows})
        return counts

    def stats_cells(self, by: str) -> dict[str, Counter[int]]:
        """cell -> {opaque person key: requests} for the breakdown `by` (for `store.stats`)."""
        rows = self._tuples(cells_sql(by, one_business=True), (self.business.id,))
        cells: dict[str, Counter[int]] = {}
        for _, cell, person, n in rows:
            cells.setdefault(str(cell), Counter())[int(person)] = int(n)
        return cells

    def billable(self, start: datetime, end: datetime) -> dict[str, int]:
        """{'requests': n, 'broadcast_parts': n}: billable events in [start, end)."""
        span = (self.business.id, to_ts(start), to_ts(end))
        req = self._tuples(
            "SELECT count(*) FROM request_keys WHERE business_id = ? AND at >= ? AND at < ?",
            span,
        )
        parts = self._tuples(
            "SELECT coalesce(sum(parts), 0) FROM business_broadcasts WHERE business_id = ?"
            " AND state IN ('sent', 'delivered') AND sent_at >= ? AND sent_at < ?",
            span,
        )
        return {"requests": int(req[0][0]), "broadcast_parts": int(parts[0][0])}
