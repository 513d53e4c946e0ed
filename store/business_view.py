"""`BusinessView`: everything a business may see, and nothing else.

Its queries select only from the privacy views of migration 002 (`business_requests`,
`business_optins`, `business_broadcasts`, `request_facts`) and the business's own `codes`:
none of them has a column that could hold a phone number, a name, an email or message text,
so no method here can return one, whatever a caller asks for. History, export, stats and
invoices are built on this class.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from store.base import from_ts, to_ts
from store.directory import DirectoryMixin
from store.errors import InvalidInput
from store.models import Business, HistoryRow

__all__ = ["DIMENSIONS", "BusinessView", "CodeCount", "Dimension"]

Dimension = Literal["hour", "weekday", "code", "sector", "age", "gender", "country"]

#: Stats dimension -> SQL expression over `request_facts` (constant text, never user input).
DIMENSIONS: dict[str, str] = {
    "hour": "substr(at, 12, 2)",
    "weekday": "strftime('%w', substr(at, 1, 19))",
    "code": "keyword",
    "sector": "sector",
    "age": "age_band",
    "gender": "gender",
    "country": "country",
}
_CHUNK = 500


@dataclass(frozen=True)
class CodeCount:
    """Requests and distinct requesters for one of the business's codes."""

    keyword: str
    paused: bool
    requests: int
    people: int


class BusinessView:
    """Read-only, privacy-preserving queries about one business."""

    def __init__(self, store: DirectoryMixin, business: int | str) -> None:
        self._store = store
        self.business: Business = store.get_business(business)

    def _filters(
        self, code: str | None, since: datetime | None, until: datetime | None
    ) -> tuple[str, list[Any]]:
        sql = " WHERE business_id = ?"
        params: list[Any] = [self.business.id]
        if code is not None:
            sql += " AND keyword = ?"
            params.append(self._store.get_code(code).keyword)
        if since is not None:
            sql += " AND at >= ?"
            params.append(to_ts(since))
        if until is not None:
            sql += " AND at < ?"
            params.append(to_ts(until))
        return sql, params

    def history(
        self,
        code: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[HistoryRow]:
        """Requests (user code, keyword, time), oldest first."""
        return list(self.iter_history(code, since, until))

    def count_history(
        self,
        code: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> int:
        """How many rows `history` would return."""
        where, params = self._filters(code, since, until)
        row = self._store._one(
            "SELECT count(*) AS n FROM business_requests" + where,  # noqa: S608 - constant
            params,
        )
        return 0 if row is None else int(row["n"])

    def iter_history(
        self,
        code: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[HistoryRow]:
        """Like `history`, read in chunks (for large exports)."""
        where, params = self._filters(code, since, until)
        last = 0
        while True:
            rows = self._store._rows(
                "SELECT request_id, user_code, keyword, at FROM business_requests"  # noqa: S608
                + where
                + " AND request_id > ? ORDER BY request_id LIMIT ?",
                [*params, last, _CHUNK],
            )
            for r in rows:
                at = from_ts(r["at"])
                assert at is not None
                yield HistoryRow(r["user_code"], r["keyword"], at)
            if len(rows) < _CHUNK:
                return
            last = int(rows[-1]["request_id"])

    def code_counts(self) -> list[CodeCount]:
        """Each of the business's codes with its requests and distinct requesters."""
        rows = self._store._rows(
            "SELECT c.keyword, c.paused, count(r.request_id) AS requests,"
            " count(DISTINCT r.user_code) AS people FROM codes c"
            " LEFT JOIN business_requests r ON r.code_id = c.id"
            " WHERE c.business_id = ? GROUP BY c.id ORDER BY c.keyword",
            (self.business.id,),
        )
        return [
            CodeCount(r["keyword"], bool(r["paused"]), int(r["requests"]), int(r["people"]))
            for r in rows
        ]

    def optin_counts(self) -> dict[str, int]:
        """{'in': people currently opted in, 'out': people whose latest event is an opt-out}."""
        rows = self._store._rows(
            "SELECT kind, count(*) AS n FROM business_optins e WHERE business_id = ?1"
            " AND event_id = (SELECT max(event_id) FROM business_optins"
            "  WHERE business_id = ?1 AND user_code = e.user_code) GROUP BY kind",
            (self.business.id,),
        )
        counts = {"in": 0, "out": 0}
        counts.update({r["kind"]: int(r["n"]) for r in rows})
        return counts

    def stats_cells(self, by: str) -> dict[str, Counter[int]]:
        """cell -> {opaque person key: requests} for the breakdown `by` (for `store.stats`)."""
        expr = DIMENSIONS.get(by)
        if expr is None:
            raise InvalidInput(f"cannot break down by {by!r}; choose from {', '.join(DIMENSIONS)}")
        rows = self._store._rows(
            f"SELECT {expr} AS cell, person_id, count(*) AS n FROM request_facts"  # noqa: S608
            " WHERE business_id = ? GROUP BY cell, person_id",
            (self.business.id,),
        )
        cells: dict[str, Counter[int]] = {}
        for r in rows:
            cells.setdefault(str(r["cell"]), Counter())[int(r["person_id"])] = int(r["n"])
        return cells

    def billable(self, start: datetime, end: datetime) -> dict[str, int]:
        """{'requests': n, 'broadcast_parts': n}: billable events in [start, end)."""
        span = (self.business.id, to_ts(start), to_ts(end))
        req = self._store._one(
            "SELECT count(*) AS n FROM business_requests WHERE business_id = ? AND at >= ?"
            " AND at < ?",
            span,
        )
        parts = self._store._one(
            "SELECT coalesce(sum(parts), 0) AS n FROM business_broadcasts WHERE business_id = ?"
            " AND state IN ('sent', 'delivered') AND sent_at >= ? AND sent_at < ?",
            span,
        )
        assert req is not None and parts is not None
        return {"requests": int(req["n"]), "broadcast_parts": int(parts["n"])}
