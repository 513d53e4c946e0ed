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

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from store.accounts import Accounts
from store.audit import Audit
from store.base import Part, StoreBase
from store.business_view import BusinessView
from store.directory import Directory
from store.errors import InvalidInput, StoreUnavailable
from store.logger import get_logger
from store.rollups import Rollups
from store.routing import Routing

__all__ = [
    "DEFAULT_MIN_PEOPLE",
    "OTHER",
    "WEEKDAYS",
    "Breakdown",
    "Cell",
    "PersonSummary",
    "Stats",
    "cells_to_suppress",
    "suppress",
]

log = get_logger(__name__)

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


def cells_to_suppress(cells: Mapping[str, Counter[int]], k: int) -> set[str]:
    """The labels of the cells that k-anonymity hides (people per cell: distinct ids)."""
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
    hidden = cells_to_suppress(cells, k)
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


def _combined(
    published: Mapping[tuple[int, str], tuple[int, int]],
    across: Mapping[str, int],
    hidden_pairs: set[tuple[int, str]],
    members: Mapping[int, set[tuple[int, str]]],
) -> dict[str, tuple[int, int]]:
    """cell -> (distinct people, requests) over the published pairs of each cell.

    `across` counts everyone of a cell; a person all of whose pairs in it are hidden is
    taken out (`members`: person -> every pair of theirs, for the people of hidden pairs).
    """
    requests: Counter[str] = Counter()
    for (_, cell), (_, n) in published.items():
        requests[cell] += n
    people = {cell: int(across.get(cell, 0)) for cell in requests}
    for pairs in members.values():
        cells = {c for _, c in pairs}
        for cell in cells & people.keys():
            if all(pair in hidden_pairs for pair in pairs if pair[1] == cell):
                people[cell] -= 1
    return {cell: (people[cell], requests[cell]) for cell in requests}


def _people(
    members: Mapping[int, set[tuple[int, str]]],
    hidden_pairs: set[tuple[int, str]],
    hidden: set[str],
    total: int,
) -> tuple[int, int, int]:
    """(people of the pool, people shown, everyone) over the published pairs.

    Everyone outside `members` has only published pairs in shown cells.
    """
    pool = no_shown = nothing = 0
    for pairs in members.values():
        cells = {c for pair in pairs if pair not in hidden_pairs for c in (pair[1],)}
        pool += bool(cells & hidden)
        no_shown += not (cells - hidden)
        nothing += not cells
    return pool, total - no_shown, total - nothing


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
        rollups: Rollups,
    ) -> None:
        super().__init__(core)
        self._rollups = rollups
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
        """Rules 1-5 over all businesses, from the roll-ups (`store.rollups`).

        Per-business cells come from `stats_cells`; distinct people across businesses from
        `stats_cell_people`, corrected for the people of suppressed pairs: only the people
        of hidden (business, cell) pairs, and of the pairs of cells hidden after combining,
        are read person by person, so the work grows with what is suppressed, not with the
        number of requests.
        """
        try:
            self._rollups.fold()
        except StoreUnavailable as exc:  # a read-only store: the rest is added in memory
            log.info("stats_rollups_not_folded", error=str(exc))
        with self.core.transaction(write=False) as db:  # one snapshot for every read below
            tail = self._rollups.tail()  # requests since the fold (none, or a read-only store)
            conn = db.conn
            per_business: dict[int, dict[str, tuple[int, int]]] = {}
            for business_id, cell, people, requests in conn.execute(
                "SELECT business_id, cell, people, requests FROM stats_cells WHERE dim = ?", (by,)
            ).fetchall():
                per_business.setdefault(int(business_id), {})[str(cell)] = (people, requests)
            for (dim, b, c), n in tail.requests.items():
                if dim == by:
                    people, requests = per_business.setdefault(b, {}).get(c, (0, 0))
                    per_business[b][c] = (people + tail.people[dim, b, c], requests + n)
            across = Counter(
                dict(
                    conn.execute(
                        "SELECT cell, people FROM stats_cell_people WHERE dim = ?", (by,)
                    ).fetchall()
                )
            )
            across.update({c: n for (dim, c), n in tail.cell_people.items() if dim == by})
            row = conn.execute("SELECT people FROM stats_cell_people WHERE dim = '*'").fetchone()
            total = tail.cell_people["*", ""] + (0 if row is None else int(row[0]))
            return self._suppressed(by, k, per_business, across, total, tail.upto)

    def _suppressed(
        self,
        by: str,
        k: int,
        per_business: dict[int, dict[str, tuple[int, int]]],
        across: Mapping[str, int],
        total: int,
        upto: int,
    ) -> Breakdown:
        """Rules 1-5 on the per-business cells and distinct people across businesses."""
        hidden_pairs = {(b, c) for b, sizes in per_business.items() for c in _hidden(sizes, k)}
        published = {
            (b, c): size
            for b, sizes in per_business.items()
            for c, size in sizes.items()
            if (b, c) not in hidden_pairs
        }
        members = self._rollups.members(by, hidden_pairs, upto)
        combined = _combined(published, across, hidden_pairs, members)
        hidden = _hidden(combined, k)
        if hidden:
            members.update(
                self._rollups.members(by, {p for p in published if p[1] in hidden}, upto)
            )
        pool_people, shown_people, everyone = _people(members, hidden_pairs, hidden, total)
        pool_requests = sum(size[1] for (_, c), size in published.items() if c in hidden)
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
            " WHERE e.person_id = ?1 GROUP BY e.business_id, b.name ORDER BY b.name",
            (person.id,),
        )
        codes = self._rows(
            "SELECT c.keyword AS code, b.name AS business, count(*) AS requests,"
            " min(r.at) AS first, max(r.at) AS last FROM requests r"
            " JOIN codes c ON c.id = r.code_id JOIN businesses b ON b.id = r.business_id"
            " WHERE r.person_id = ? GROUP BY r.code_id, c.keyword, b.name ORDER BY c.keyword",
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
