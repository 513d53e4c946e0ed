"""Maintained roll-ups for gateway-wide statistics (`store.rollups`).

`smsd stats` over all businesses needs, per breakdown ("dimension"), each business's cells
(distinct people, requests), the distinct people of each cell across businesses, and the
distinct people overall. Grouping 10 M requests for that took 79 s; these tables keep it:

    stats_cells        (dim, business_id, cell) -> people, requests
    stats_cell_people  (dim, cell) -> distinct people across businesses ('*', '': everyone)
    stats_watermark    the last request id folded in

`fold()` adds the requests above the watermark (the daemon calls it every minute, `smsd stats`
before it reads): for each new request it asks whether its (business, cell, person) and
(cell, person) were seen before, looking only at that person's older requests (an index
range). A store that cannot write (opened read-only) computes the same increments in memory
instead (`tail()`), in the snapshot it reads the roll-ups from, so its statistics are exact
too, never "as of the daemon's last fold". A large backlog (a fresh migration, a copied
database) is rebuilt with grouped queries instead. Writers are serialised on both backends
(SQLite's write lock, PostgreSQL's advisory lock), so request ids are committed in order
and the watermark never skips one.

Attributes that place a person or a business in a cell can change (a profile update, an
erasure, a business's sector): `moving_person` / `moving_business` take their contribution out
before the change and put it back after, in the same transaction. A change made with raw SQL
bypasses this: call `rebuild()` after one.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from store.backend import Database
from store.base import Part
from store.business_view import DIMENSIONS, cells_sql
from store.errors import StoreUnavailable

__all__ = ["PERSON_DIMENSIONS", "REBUILD_BACKLOG", "Rollups", "Tail"]

#: Dimensions whose cell is an attribute of the person (the `people` columns behind them).
PERSON_DIMENSIONS = {"age": "age_band", "gender": "gender", "country": "country"}
#: More new requests than this are rebuilt with grouped queries instead of folded one by one.
REBUILD_BACKLOG = 200_000
_CHUNK = 2_000
_IDS = "(SELECT CAST(value AS INTEGER) FROM json_each(?))"
_UPSERT_CELL = (
    "INSERT INTO stats_cells (dim, business_id, cell, people, requests) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (dim, business_id, cell) DO UPDATE SET"
    " people = stats_cells.people + excluded.people,"
    " requests = stats_cells.requests + excluded.requests"
)
_UPSERT_PEOPLE = (
    "INSERT INTO stats_cell_people (dim, cell, people) VALUES (?, ?, ?)"
    " ON CONFLICT (dim, cell) DO UPDATE SET people = stats_cell_people.people + excluded.people"
)

Pair = tuple[int, str, int]  # (business_id, cell, person_id)


@dataclass
class Tail:
    """Roll-up increments for requests up to `upto`: (dim, business, cell) -> new distinct
    people and requests; (dim, cell) -> new distinct people across businesses ('*', '':
    everyone)."""

    upto: int
    people: Counter[tuple[str, int, str]] = field(default_factory=Counter)
    requests: Counter[tuple[str, int, str]] = field(default_factory=Counter)
    cell_people: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, later: Tail) -> None:
        """Add the increments of the requests right after these."""
        self.upto = later.upto
        self.people.update(later.people)
        self.requests.update(later.requests)
        self.cell_people.update(later.cell_people)


class Rollups(Part):
    """Keeps `stats_cells` and `stats_cell_people` equal to grouping every request."""

    def watermark(self) -> int:
        """The id of the last request folded in."""
        row = self._one("SELECT last_request_id AS n FROM stats_watermark")
        return 0 if row is None else int(row["n"])

    def fold(self, *, may_rebuild: bool = True) -> int | None:
        """Fold every request above the watermark in; return how many were folded.

        Each chunk is its own write transaction, so the daemon's writers interleave. Past
        REBUILD_BACKLOG the roll-ups are rebuilt instead, or, with `may_rebuild` False (the
        daemon: a rebuild takes minutes at 10 M requests), nothing is done and None returned.
        """
        start = self.watermark()
        row = self._one("SELECT coalesce(max(id), 0) AS n FROM requests")
        top = 0 if row is None else int(row["n"])
        if top - start > REBUILD_BACKLOG:
            if not may_rebuild:
                return None
            self.rebuild()
            return top - start
        while True:
            with self.core.transaction():  # the watermark re-read under the write lock
                low = self.watermark()
                if low >= top:
                    return top - start
                self._fold_chunk(low, min(low + _CHUNK, top))

    def rebuild(self) -> None:
        """Recompute every roll-up from the requests with grouped queries (slow, exact)."""
        with self.core.transaction() as db:
            top = self._one("SELECT coalesce(max(id), 0) AS n FROM requests")
            db.execute("DELETE FROM stats_cells")
            db.execute("DELETE FROM stats_cell_people")
            for by in DIMENSIONS:
                rows = f"SELECT * FROM ({cells_sql(by, one_business=False)}) c"  # noqa: S608
                per_pair = (
                    "INSERT INTO stats_cells (dim, business_id, cell, people, requests)"  # noqa: S608
                    f" SELECT ?, business_id, cell, count(*), sum(n) FROM ({rows}) r"
                    " GROUP BY business_id, cell"
                )
                per_cell = (
                    "INSERT INTO stats_cell_people (dim, cell, people)"  # noqa: S608
                    f" SELECT ?, cell, count(DISTINCT person_id) FROM ({rows}) r GROUP BY cell"
                )
                db.execute(per_pair, (by,))
                db.execute(per_cell, (by,))
            db.execute(
                "INSERT INTO stats_cell_people (dim, cell, people)"
                " SELECT '*', '', count(DISTINCT person_id) FROM request_keys"
            )
            self._set_watermark(0 if top is None else int(top["n"]))

    def _set_watermark(self, value: int) -> None:
        with self.core.transaction() as db:
            db.execute("DELETE FROM stats_watermark")
            db.execute("INSERT INTO stats_watermark (last_request_id) VALUES (?)", (value,))

    def _fold_chunk(self, low: int, high: int) -> None:
        """Fold the requests with low < id <= high (everything up to `low` is folded)."""
        tail = self._deltas(low, high)
        self._write(
            [(by, b, c, tail.people[by, b, c], n) for (by, b, c), n in tail.requests.items()],
            [(by, c, n) for (by, c), n in tail.cell_people.items() if n],
        )
        self._set_watermark(high)

    def tail(self) -> Tail:
        """What the requests above the watermark add, computed and not written: the exact
        statistics of a store that cannot fold (read-only), in the caller's read transaction.

        `StoreUnavailable` past REBUILD_BACKLOG (roll-ups that far behind are rebuilt by
        `smsd db migrate`, or by a writable `smsd stats`).
        """
        with self.core.transaction(write=False):
            low = self.watermark()
            row = self._one("SELECT coalesce(max(id), 0) AS n FROM requests")
            top = 0 if row is None else int(row["n"])
            if top - low > REBUILD_BACKLOG:
                raise StoreUnavailable(
                    f"statistics roll-ups are {top - low} requests behind: run smsd db migrate"
                )
            tail = Tail(low)
            for start in range(low, top, _CHUNK):  # each chunk's older requests: all below it
                tail.add(self._deltas(start, min(start + _CHUNK, top)))
        return tail

    def _deltas(self, low: int, high: int) -> Tail:
        """What the requests with low < id <= high add to roll-ups that hold those up to low."""
        new = self._all_dims("request_id > ? AND request_id <= ?", [low, high])
        people = sorted({p for rows in new.values() for _, _, p, _ in rows})
        old = self._all_dims(f"person_id IN {_IDS} AND request_id <= ?", [json.dumps(people), low])
        tail = Tail(high)
        for by in DIMENSIONS:
            seen_pairs = {(b, c, p) for b, c, p, _ in old[by]}
            seen_cells = {(c, p) for _, c, p, _ in old[by]}
            for b, c, p, n in new[by]:
                tail.requests[by, b, c] += n
                if (b, c, p) not in seen_pairs:
                    seen_pairs.add((b, c, p))
                    tail.people[by, b, c] += 1
                if (c, p) not in seen_cells:
                    seen_cells.add((c, p))
                    tail.cell_people[by, c] += 1
        seen = {p for rows in old.values() for _, _, p, _ in rows}
        tail.cell_people["*", ""] += len(set(people) - seen)
        return tail

    def _all_dims(
        self, where: str, params: list[Any]
    ) -> dict[str, list[tuple[int, str, int, int]]]:
        """dim -> (business, cell, person, requests) for the requests `where` selects.

        One grouped read of `request_keys` (hour and weekday computed by the same SQL as
        `cells_sql`), then the cells of the other dimensions from the few codes, businesses
        and people involved: cheaper than seven `cells_sql` queries over the same rows.
        """
        grouped = (
            "SELECT business_id, code_id, substr(at, 12, 2) AS hour,"  # noqa: S608 - constant
            " strftime('%w', substr(at, 1, 19)) AS day, person_id, count(*) FROM request_keys"
            f" WHERE {where} GROUP BY business_id, code_id, hour, day, person_id"
        )
        with self.core.transaction(write=False) as db:
            rows = db.conn.execute(grouped, params).fetchall()
            codes, firms, people = (sorted({int(r[i]) for r in rows}) for i in (1, 0, 4))
            keyword = dict(self._lookup(db, "SELECT id, keyword FROM codes WHERE id", codes))
            sector = dict(self._lookup(
                db, "SELECT business_id, sector FROM business_facts WHERE business_id", firms
            ))  # fmt: skip
            attrs = {int(r[0]): r[1:] for r in self._lookup(
                db, "SELECT person_id, age_band, gender, country FROM person_facts"
                " WHERE person_id", people
            )}  # fmt: skip
        cells: dict[str, Counter[tuple[int, str, int]]] = {by: Counter() for by in DIMENSIONS}
        for b, code, hour, day, p, n in rows:
            b, p, n = int(b), int(p), int(n)
            age, gender, country = attrs[p]
            for by, cell in (("hour", hour), ("weekday", day), ("code", keyword[int(code)]),
                             ("sector", sector[b]), ("age", age), ("gender", gender),
                             ("country", country)):  # fmt: skip
                cells[by][b, str(cell), p] += n
        return {by: [(b, c, p, n) for (b, c, p), n in got.items()] for by, got in cells.items()}

    @staticmethod
    def _lookup(db: Database, sql: str, ids: list[int]) -> list[Any]:
        return db.conn.execute(f"{sql} IN {_IDS}", (json.dumps(ids),)).fetchall() if ids else []

    def members(
        self, by: str, pairs: set[tuple[int, str]], upto: int | None = None
    ) -> dict[int, set[tuple[int, str]]]:
        """person -> all their (business, cell) pairs of `by`, for the people of `pairs`,
        over the requests up to `upto` (default: the watermark)."""
        if not pairs:
            return {}
        upto = self.watermark() if upto is None else upto
        businesses = json.dumps(sorted({b for b, _ in pairs}))
        sql = cells_sql(by, one_business=False, where=f"business_id IN {_IDS} AND request_id <= ?")
        with self.core.transaction(write=False) as db:
            rows = db.conn.execute(sql, (businesses, upto)).fetchall()
        people = sorted({int(p) for b, c, p, _ in rows if (int(b), str(c)) in pairs})
        out: dict[int, set[tuple[int, str]]] = {p: set() for p in people}
        for b, c, p, _ in self._pairs(persons=people, upto=upto, dims=(by,))[by]:
            out[p].add((b, c))
        return out

    def _pairs(
        self,
        *,
        by_id: tuple[int, int] | None = None,
        persons: Sequence[int] = (),
        upto: int = 0,
        dims: Sequence[str] = tuple(DIMENSIONS),
    ) -> dict[str, list[tuple[int, str, int, int]]]:
        """dim -> (business, cell, person, requests) rows of a range of ids or of persons."""
        out: dict[str, list[tuple[int, str, int, int]]] = {by: [] for by in dims}
        if by_id is None and not persons:
            return out
        params: list[Any]
        if by_id is not None:
            where, params = "request_id > ? AND request_id <= ?", list(by_id)
        else:
            where, params = f"person_id IN {_IDS} AND request_id <= ?", [json.dumps(persons), upto]
        with self.core.transaction(write=False) as db:
            for by in dims:
                sql = cells_sql(by, one_business=False, where=where)
                for b, c, p, n in db.conn.execute(sql, params).fetchall():
                    out[by].append((int(b), str(c), int(p), int(n)))
        return out

    def _write(self, cells: list[tuple[Any, ...]], people: list[tuple[Any, ...]]) -> None:
        with self.core.transaction() as db:
            db.conn.executemany(_UPSERT_CELL, cells)
            db.conn.executemany(_UPSERT_PEOPLE, people)
            db.execute("DELETE FROM stats_cells WHERE people = 0")
            db.execute("DELETE FROM stats_cell_people WHERE people = 0 AND dim != '*'")

    @contextlib.contextmanager
    def moving_person(self, person_id: int) -> Iterator[None]:
        """Around a change of a person's age band, gender or country: move their cells."""
        with self.core.transaction():
            self._person(person_id, -1)
            yield
            self._person(person_id, +1)

    def _person(self, person_id: int, sign: int) -> None:
        upto = self.watermark()
        rows = self._pairs(persons=[person_id], upto=upto, dims=tuple(PERSON_DIMENSIONS))
        cells: list[tuple[Any, ...]] = []
        people: list[tuple[Any, ...]] = []
        for by in PERSON_DIMENSIONS:
            for b, c, _, n in rows[by]:
                cells.append((by, b, c, sign, sign * n))
            people.extend((by, c, sign) for c in {c for _, c, _, _ in rows[by]})
        self._write(cells, people)

    @contextlib.contextmanager
    def moving_business(self, business_id: int) -> Iterator[None]:
        """Around a change of a business's sector: move its cell and its people's."""
        with self.core.transaction():
            self._business(business_id, -1)
            yield
            self._business(business_id, +1)

    def _business(self, business_id: int, sign: int) -> None:
        upto = self.watermark()
        sql = cells_sql("sector", one_business=True, where="request_id <= ?")
        with self.core.transaction(write=False) as db:
            mine = db.conn.execute(sql, (business_id, upto)).fetchall()
        if not mine:
            return
        cell = str(mine[0][1])
        persons = sorted({int(r[2]) for r in mine})
        others = self._pairs(persons=persons, upto=upto, dims=("sector",))["sector"]
        elsewhere = {p for b, c, p, _ in others if b != business_id and c == cell}
        joined = sum(1 for r in mine if int(r[2]) not in elsewhere)
        self._write(
            [("sector", business_id, cell, sign * len(mine), sign * sum(int(r[3]) for r in mine))],
            [("sector", cell, sign * joined)],
        )
