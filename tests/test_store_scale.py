"""Scale regressions caught without timing: query plans, paging, differential stats, statements."""

from __future__ import annotations

import functools
import json
import random
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from smsd.pipeline import process_incoming
from smsd.router import Rules
from smsd.testing import StatementLog
from store import HistoryRow, Store
from store.business_view import BUSINESS_VIEWS, DIMENSIONS, BusinessView, CodeCount
from store.stats import _to_suppress, suppress

T0 = datetime(2025, 3, 1, tzinfo=UTC)
BIG = {"requests", "people", "optin_events", "incoming", "outgoing"}
#: The breakdowns as the released queries computed them (over `request_facts`): the oracle.
OLD_CELL = {
    "hour": "substr(at, 12, 2)",
    "weekday": "strftime('%w', substr(at, 1, 19))",
    "code": "keyword",
    "sector": "sector",
    "age": "age_band",
    "gender": "gender",
    "country": "country",
}
#: Most SQL statements one routed message may cost (record + route, first contact included);
#: 17 since a named code also reads its business's consent policy and its poll (issue 16).
MAX_STATEMENTS_PER_MESSAGE = 17


def _populate(store: Store, seed: int = 3) -> None:
    """6 businesses of very different sizes, 80 people, ~900 requests (many sharing a second)."""
    rng = random.Random(seed)
    for b in range(6):
        store.directory.add_business(f"Biz {b}", now=T0)
        for c in range(2):
            store.directory.add_code(f"Biz {b}", f"B{b}C{c}", "ok", now=T0)
    with store.transaction() as db:
        conn = db.conn
        for i in range(80):
            person = store.directory.create_person(f"+4477009{i:05d}", T0)
            conn.execute(
                "UPDATE people SET age_band = ?, gender = ?, country = ? WHERE id = ?",
                (rng.choice(["21-25", "31-40", None]), rng.choice(["female", "male"]),
                 rng.choice(["GB", "GB", "IE"]), person.id),
            )  # fmt: skip
        for n in range(900):
            business = min(int(rng.expovariate(0.6)), 5) + 1
            code = (business - 1) * 2 + rng.randrange(2) + 1
            # timestamps collide often, so paging must break ties by id
            at = T0 + timedelta(hours=rng.randrange(24 * 20), seconds=n % 3)
            conn.execute(
                "INSERT INTO requests (person_id, business_id, code_id, at) VALUES (?, ?, ?, ?)",
                (rng.randrange(80) + 1, business, code, at.isoformat(timespec="microseconds")),
            )
        for n in range(300):
            conn.execute(
                "INSERT INTO optin_events (person_id, business_id, kind, at) VALUES (?, ?, ?, ?)",
                (rng.randrange(80) + 1, rng.randrange(6) + 1, rng.choice(["in", "in", "out"]),
                 (T0 + timedelta(minutes=n)).isoformat()),
            )  # fmt: skip


@pytest.fixture
def store(db_target: str) -> Iterator[Store]:
    """A populated store on a real file."""
    with Store.open(db_target) as opened:
        _populate(opened)
        yield opened


def _selects(store: Store, fn: Callable[[], object]) -> list[str]:
    seen: list[str] = []
    store.db.conn.set_trace_callback(seen.append)
    try:
        fn()
    finally:
        store.db.conn.set_trace_callback(None)
    return [s for s in seen if s.lstrip().upper().startswith("SELECT")]


def _plan(store: Store, sql: str) -> list[str]:
    return [str(r[3]) for r in store.db.conn.execute("EXPLAIN QUERY PLAN " + sql)]


def _bad_lines(plan: list[str]) -> list[str]:
    """Plan lines that read a whole big table, materialise a view or auto-index a big table.

    A MATERIALIZE of a subquery already narrowed to one business (a few rows) is fine.
    """
    big = BIG | {"k", "p", "r", "e", *BUSINESS_VIEWS}
    bad = []
    for line in plan:
        words = line.split()
        scans = words[0] == "SCAN" and words[1] in big
        views = words[0] == "MATERIALIZE" and words[1] in BUSINESS_VIEWS
        if scans or views or ("AUTOMATIC" in line and words[1] in big):
            bad.append(line)
    return bad


def test_business_queries_search_an_index_and_never_scan(store: Store) -> None:
    """Every per-business query plan SEARCHes indexes: no big-table scan, no materialised view."""
    if store.dialect != "sqlite":
        pytest.skip("SQLite's EXPLAIN QUERY PLAN; PostgreSQL's plans follow table statistics")
    view = BusinessView(store.directory, "Biz 0")
    calls: dict[str, Callable[[], object]] = {
        "store.routing.history": lambda: store.routing.history("Biz 0"),
        "history page": lambda: view.page(limit=10),
        "history page with cursor": lambda: view.page(limit=10, before=view.page(limit=10).before),
        "history filtered": lambda: view.history("B0C1", T0, T0 + timedelta(days=3)),
        "iter_history": lambda: list(view.iter_history()),
        "count_history": view.count_history,
        "code_counts": view.code_counts,
        "optin_counts": view.optin_counts,
        "billable": lambda: view.billable(T0, T0 + timedelta(days=30)),
    }
    for by in DIMENSIONS:
        calls[f"stats {by}"] = functools.partial(store.stats.breakdown, by, business="Biz 0")
    for label, fn in calls.items():
        selects = _selects(store, fn)
        assert selects, label
        for sql in selects:
            assert not _bad_lines(_plan(store, sql)), (label, sql, _plan(store, sql))
    history_plan = " ".join(_plan(store, _selects(store, lambda: view.page(limit=5))[-1]))
    assert "requests_business_at_cover" in history_plan and "TEMP B-TREE" not in history_plan


def test_pages_walk_back_to_the_full_history_without_gaps(store: Store) -> None:
    """Pages by the (at, id) keyset, oldest first each, join up to exactly the full history."""
    view = BusinessView(store.directory, "Biz 0")
    full = view.history()
    assert len(full) > 100 and full == list(view.iter_history()) == store.routing.history("Biz 0")
    assert [r.at for r in full] == sorted(r.at for r in full)
    assert len({r.at for r in full}) < len(full), "the data has ties to break"
    pages: list[list[HistoryRow]] = []
    cursor = None
    while True:
        page = view.page(limit=7, before=cursor)
        pages.insert(0, list(page.rows))
        if page.before is None:
            break
        cursor = page.before
    assert [row for p in pages for row in p] == full
    assert view.history(limit=25) == full[-25:] == store.routing.history("Biz 0", limit=25)
    assert view.count_history() == len(full)


def test_export_chunks_break_timestamp_ties(store: Store) -> None:
    """`iter_history` in 500-row chunks over equal timestamps loses and repeats nothing."""
    with store.transaction() as db:
        for n in range(1200):
            db.execute(
                "INSERT INTO requests (person_id, business_id, code_id, at) VALUES (?, 6, 11, ?)",
                (n % 80 + 1, T0.isoformat(timespec="microseconds")),
            )
    view = BusinessView(store.directory, "Biz 5")
    rows = list(view.iter_history())
    assert len(rows) == view.count_history() >= 1200
    ids = [r[0] for r in store.db.conn.execute(
        "SELECT id FROM requests WHERE business_id = 6 ORDER BY at, id")]  # fmt: skip
    assert len(set(ids)) == len(rows)


def _old_cells(store: Store, business_id: int, by: str) -> dict[str, Counter[int]]:
    cells: dict[str, Counter[int]] = {}
    for cell, person, n in store.db.conn.execute(
        f"SELECT {OLD_CELL[by]} AS cell, person_id, count(*) FROM request_facts"
        " WHERE business_id = ? GROUP BY cell, person_id",
        (business_id,),
    ):
        cells.setdefault(str(cell), Counter())[int(person)] = int(n)
    return cells


@pytest.mark.parametrize("k", [2, 5, 12])
@pytest.mark.parametrize("by", list(DIMENSIONS))
def test_gateway_stats_equal_the_per_business_computation(store: Store, by: str, k: int) -> None:
    """Grouped gateway-wide stats equal rule 5 computed business by business (the old way)."""
    combined: dict[str, Counter[int]] = {}
    for owner in store.directory.list_businesses():
        cells = _old_cells(store, owner.id, by)
        assert BusinessView(store.directory, owner.id).stats_cells(by) == cells
        assert store.stats.breakdown(by, business=owner.id, min_people=k) == suppress(
            cells, k, by=by, business=owner.name
        )
        hidden = _to_suppress(cells, k)
        for label, who in cells.items():
            if label not in hidden:
                combined.setdefault(label, Counter()).update(who)
    assert store.stats.breakdown(by, min_people=k) == suppress(combined, k, by=by)


def test_differential_dataset_exercises_suppression(store: Store) -> None:
    """The data hides cells per business, so rule 5 drops requests (else the test is vacuous)."""
    assert any(store.stats.breakdown("hour", business=b.id, min_people=5).suppressed
               for b in store.directory.list_businesses())  # fmt: skip
    (everything,) = store.db.conn.execute("SELECT count(*) FROM requests").fetchone()
    assert 0 < store.stats.breakdown("hour", min_people=12).total_requests < everything


def test_code_and_optin_counts_equal_the_view_queries(store: Store) -> None:
    """code_counts and optin_counts agree with a count over the 002 privacy views."""
    for owner in store.directory.list_businesses():
        view = BusinessView(store.directory, owner.id)
        expected = [
            CodeCount(kw, bool(paused), n, people)
            for kw, paused, n, people in store.db.conn.execute(
                "SELECT c.keyword, c.paused, count(r.request_id), count(DISTINCT r.user_code)"
                " FROM codes c LEFT JOIN business_requests r ON r.code_id = c.id"
                " WHERE c.business_id = ? GROUP BY c.id ORDER BY c.keyword",
                (owner.id,),
            )
        ]
        assert view.code_counts() == expected
        latest = dict(store.db.conn.execute(
            "SELECT user_code, kind FROM business_optins WHERE business_id = ?"
            " ORDER BY event_id", (owner.id,)))  # fmt: skip
        counts = Counter(latest.values())
        assert view.optin_counts() == {"in": counts["in"], "out": counts["out"]}
        assert sum(view.optin_counts().values()) > 0


def test_statements_per_routed_message_stay_bounded(tmp_path: Path) -> None:
    """record_incoming + process_incoming run at most a fixed number of SQL statements."""
    with Store.open(tmp_path / "route.db") as store:
        store.directory.add_business("Pizza", now=T0)
        store.directory.add_code("Pizza", "PIZZA", "Thanks {user_code}", now=T0)
        seen = StatementLog()  # trigger programs are not counted as statements
        store.db.conn.set_trace_callback(seen)
        counts = []
        for i, (sender, text) in enumerate(
            [("+447700900001", "pizza"), ("+447700900001", "PIZZA"), ("+447700900002", "HELP"),
             ("+447700900001", "what"), ("+447700900003", "STOP")]
        ):  # fmt: skip
            before = len(seen)
            now = T0 + timedelta(minutes=i)
            msg = store.inbox.record_incoming(sender=sender, sender_type="international", text=text,
                                        received_at=now, scts=now)  # fmt: skip
            assert msg is not None
            assert process_incoming(store, msg, now, Rules()) is not None
            counts.append(len(seen) - before)
        store.db.conn.set_trace_callback(None)
        assert max(counts) <= MAX_STATEMENTS_PER_MESSAGE, counts
        assert not any("SAVEPOINT" in s for s in seen)
        assert [r.user_code for r in store.routing.history("Pizza")] == [store.directory.get_person(
            store.routing.history("Pizza")[0].user_code).user_code] * 2  # fmt: skip


def test_cli_history_shows_latest_page_unless_all(tmp_path: Path) -> None:
    """`smsd history` prints the latest --limit rows (default 100) and everything with --all."""
    path = tmp_path / "cli.db"
    with Store.open(path) as opened:
        _populate(opened)
        full = opened.routing.history("Biz 0")
    runner = CliRunner()

    def rows(*args: str) -> list[dict[str, str]]:
        result = runner.invoke(cli, ["--db", str(path), "history", "Biz 0", "--json", *args])
        assert result.exit_code == 0, result.output
        got: list[dict[str, str]] = json.loads(result.stdout)
        return got

    assert len(full) > 100
    assert len(rows()) == 100
    latest = rows("--limit", "3")
    assert [r["user_code"] for r in latest] == [r.user_code for r in full[-3:]]
    assert len(rows("--all")) == len(full)
