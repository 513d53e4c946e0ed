"""Aggregate statistics with small-cell suppression, and a person's own activity summary.

The rule (docs/PRIVACY.md, "Statistics"):

1. A cell with fewer than `k` distinct people is suppressed (`k` >= 2, default 5).
2. Complementary suppression: if exactly one cell of a breakdown is suppressed, the next
   smallest is suppressed too, so it cannot be recovered as "total minus the others".
3. Suppressed cells are pooled as "other (suppressed)", shown only when the pool itself has at
   least `k` distinct people; totals and shares count only what is shown.
4. Gateway-wide breakdowns are built only from cells each business's own breakdown would
   publish, so "all businesses" minus "one business" never reveals a suppressed cell.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from store.accounts import Accounts
from store.audit import Audit
from store.base import Part, StoreBase
from store.business_view import BusinessView, cells_sql
from store.directory import Directory
from store.errors import InvalidInput
from store.routing import Routing

__all__ = [
    "DEFAULT_MIN_PEOPLE",
    "OTHER",
    "WEEKDAYS",
    "Breakdown",
    "Cell",
    "PersonSummary",
    "Stats",
    "suppress",
]

DEFAULT_MIN_PEOPLE = 5
OTHER = "other (suppressed)"
_FLOOR = 2
#: SQLite's %w order (0 = Sunday).
WEEKDAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")


@dataclass(frozen=True)
class Cell:
    """One published cell: distinct people, requests, and share of the published requests."""

    label: str
    people: int
    requests: int
    share: float


@dataclass(frozen=True)
class Breakdown:
    """A published breakdown: shown cells (maybe with the pooled 'other') and its totals."""

    by: str
    business: str | None
    min_people: int
    cells: tuple[Cell, ...]
    suppressed: int
    total_people: int
    total_requests: int


def _hidden(sizes: Mapping[str, tuple[int, int]], k: int) -> set[str]:
    """Rules 1-2 on label -> (distinct people, requests): the labels to suppress."""
    hidden = {label for label, (people, _) in sizes.items() if people < k}
    if len(hidden) == 1 and len(sizes) > 1:
        rest = sorted((c for c in sizes if c not in hidden), key=lambda c: (*sizes[c], c))
        hidden.add(rest[0])
    return hidden


def _to_suppress(cells: Mapping[str, Counter[int]], k: int) -> set[str]:
    return _hidden({label: (len(who), sum(who.values())) for label, who in cells.items()}, k)


def _published(
    shown: Mapping[str, tuple[int, int]],
    *,
    by: str,
    business: str | None,
    k: int,
    suppressed: int,
    total_people: int,
) -> Breakdown:
    """Rule 4: the Breakdown of the shown cells (the pool under `OTHER`), shares of their sum."""
    total_requests = sum(requests for _, requests in shown.values())
    ordered = sorted((c for c in shown if c != OTHER), key=_sort_key) + (
        [OTHER] if OTHER in shown else []
    )
    published = tuple(
        Cell(
            label,
            shown[label][0],
            shown[label][1],
            round(shown[label][1] / total_requests, 4) if total_requests else 0.0,
        )
        for label in ordered
    )
    return Breakdown(by, business, k, published, suppressed, total_people, total_requests)


def suppress(
    cells: Mapping[str, Counter[int]], k: int, *, by: str = "", business: str | None = None
) -> Breakdown:
    """Apply the suppression rule to cell -> {person key: requests}; return what may be shown."""
    if k < _FLOOR:
        raise InvalidInput(f"min_people must be at least {_FLOOR}")
    hidden = _to_suppress(cells, k)
    shown = {label: who for label, who in cells.items() if label not in hidden}
    pool: Counter[int] = Counter()
    for label in hidden:
        pool.update(cells[label])
    if hidden and len(pool) >= k:
        shown[OTHER] = pool
    everyone: set[int] = set()
    for who in shown.values():
        everyone.update(who)
    sizes = {label: (len(who), sum(who.values())) for label, who in shown.items()}
    return _published(
        sizes, by=by, business=business, k=k, suppressed=len(hidden), total_people=len(everyone)
    )


def _sort_key(label: str) -> tuple[int, str]:
    return (int(label), "") if label.isdigit() else (1 << 30, label)


@dataclass(frozen=True)
class PersonSummary:
    """A person's own activity: businesses (in/out with dates), codes, hour and weekday pattern."""

    user_code: str
    businesses: tuple[dict[str, object], ...]
    codes: tuple[dict[str, object], ...]
    hours: dict[str, int]
    weekdays: dict[str, int]


class Stats(Part):
    """Breakdowns for one business or all (`store.stats`), and a person's own summary.

    Business breakdowns go through `BusinessView`; the person's summary and dossier read
    their profile, history and audit through the parts handed in.
    """

    def __init__(
        self,
        core: StoreBase,
        directory: Directory,
        accounts: Accounts,
        routing: Routing,
        audit: Audit,
    ) -> None:
        super().__init__(core)
        self._directory = directory
        self._accounts = accounts
        self._routing = routing
        self._audit = audit

    def breakdown(
        self, by: str, *, business: int | str | None = None, min_people: int = DEFAULT_MIN_PEOPLE
    ) -> Breakdown:
        """Distinct people and requests per cell of `by`, suppressed as the module says."""
        if min_people < _FLOOR:
            raise InvalidInput(f"--min-people must be at least {_FLOOR}")
        if business is not None:
            view = BusinessView(self._directory, business)
            return suppress(view.stats_cells(by), min_people, by=by, business=view.business.name)
        return self._gateway_stats(by, min_people)

    def _gateway_stats(self, by: str, k: int) -> Breakdown:
        """Rule 5 in three grouped queries instead of one query per business.

        1. (people, requests) of every (business, cell); rules 1-2 run per business in Python.
        2. The combined cells over the published pairs only (the few hidden pairs excluded,
           passed as one JSON parameter); rules 1-2 again on the combined cells.
        3. Distinct people of the pool and of everything shown (rule 4).
        """
        rows = f"SELECT * FROM ({cells_sql(by, one_business=False)})"  # noqa: S608 - constant
        with self.core.transaction(write=False) as db:
            conn = db.conn
            per_business: dict[int, dict[str, tuple[int, int]]] = {}
            for business_id, cell, people, requests in conn.execute(
                f"SELECT business_id, cell, count(*), sum(n) FROM ({rows})"  # noqa: S608
                " GROUP BY business_id, cell"
            ):
                per_business.setdefault(int(business_id), {})[str(cell)] = (people, requests)
            hidden_pairs = sorted(
                f"{business_id}|{cell}"
                for business_id, sizes in per_business.items()
                for cell in _hidden(sizes, k)
            )
            published = (
                f"FROM ({rows}) WHERE business_id || '|' || cell"  # noqa: S608
                " NOT IN (SELECT value FROM json_each(?1))"
            )
            combined = {
                str(cell): (int(people), int(requests))
                for cell, people, requests in conn.execute(
                    f"SELECT cell, count(DISTINCT person_id), sum(n) {published} GROUP BY cell",
                    (json.dumps(hidden_pairs),),
                )
            }
            hidden = _hidden(combined, k)
            totals = (
                (  # noqa: S608 - constant SQL, bound values
                    "SELECT count(DISTINCT CASE WHEN hidden THEN person_id END),"
                    " coalesce(sum(CASE WHEN hidden THEN n END), 0),"
                    " count(DISTINCT CASE WHEN NOT hidden THEN person_id END),"
                    " count(DISTINCT person_id) FROM (SELECT person_id, n,"
                    " cell IN (SELECT value FROM json_each(?2)) AS hidden "
                )
                + published
                + ")"
            )
            pool_people, pool_requests, shown_people, everyone = conn.execute(
                totals, (json.dumps(hidden_pairs), json.dumps(sorted(hidden)))
            ).fetchone()
        shown = {label: size for label, size in combined.items() if label not in hidden}
        pool_shown = bool(hidden) and pool_people >= k
        if pool_shown:
            shown[OTHER] = (int(pool_people), int(pool_requests))
        return _published(
            shown,
            by=by,
            business=None,
            k=k,
            suppressed=len(hidden),
            total_people=int(everyone if pool_shown else shown_people),
        )

    def person_summary(self, user_code: str) -> PersonSummary:
        """Businesses opted in/out with dates, codes with counts, hour and weekday pattern."""
        person = self._directory.get_person(user_code)
        businesses = self._rows(
            "SELECT b.name AS business, min(CASE WHEN e.kind = 'in' THEN e.at END) AS first_in,"
            " max(e.at) AS last_change, (SELECT kind FROM optin_events x WHERE x.person_id = ?1"
            "  AND x.business_id = e.business_id ORDER BY x.id DESC LIMIT 1) AS status"
            " FROM optin_events e JOIN businesses b ON b.id = e.business_id"
            " WHERE e.person_id = ?1 GROUP BY e.business_id ORDER BY b.name",
            (person.id,),
        )
        codes = self._rows(
            "SELECT c.keyword AS code, b.name AS business, count(*) AS requests,"
            " min(r.at) AS first, max(r.at) AS last FROM requests r"
            " JOIN codes c ON c.id = r.code_id JOIN businesses b ON b.id = r.business_id"
            " WHERE r.person_id = ? GROUP BY r.code_id ORDER BY c.keyword",
            (person.id,),
        )
        pattern = self._rows(
            "SELECT substr(at, 12, 2) AS hour, strftime('%w', substr(at, 1, 19)) AS day,"
            " count(*) AS n FROM requests WHERE person_id = ? GROUP BY hour, day",
            (person.id,),
        )
        hours: Counter[str] = Counter()
        days: Counter[str] = Counter()
        for r in pattern:
            hours[r["hour"]] += int(r["n"])
            days[WEEKDAYS[int(r["day"])]] += int(r["n"])
        return PersonSummary(
            person.user_code,
            tuple(businesses),
            tuple(codes),
            dict(sorted(hours.items())),
            {d: days[d] for d in WEEKDAYS if d in days},
        )

    def person_dossier(self, user_code: str) -> dict[str, object]:
        """Everything stored about a person: profile, history, texts in and out, audit."""
        profile = self._accounts.person_profile(user_code)
        person = self._directory.get_person(user_code)
        phone = person.phone or "\x00no phone"  # an erased person matches no sender
        incoming = self._rows(
            "SELECT id, received_at, scts, text, state, modem FROM incoming"
            " WHERE sender = ? ORDER BY id",
            (phone,),
        )
        outgoing = self._rows(
            "SELECT id, created_at, kind, state, text, recipient, sent_at, delivered_at"
            " FROM outgoing WHERE person_id = ? OR recipient = ? ORDER BY id",
            (person.id, phone),
        )
        return {
            "profile": profile,
            "summary": self.person_summary(user_code),
            "ledger": self._routing.person_history(user_code),
            "incoming": incoming,
            "outgoing": outgoing,
            "audit": self._audit.list_audit(subject=person.user_code),
        }
