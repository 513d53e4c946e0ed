"""Small-cell suppression, complementary suppression and cross-query differencing."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from store import InvalidInput, Plan, RequestDraft, Store
from store.stats import OTHER, suppress

T0 = datetime(2026, 9, 7, 0, 0, tzinfo=UTC)


def cells(**sizes: int) -> dict[str, Counter[int]]:
    """label -> n distinct people (one request each), people numbered apart per cell."""
    out: dict[str, Counter[int]] = {}
    base = 0
    for label, n in sizes.items():
        out[label] = Counter({base + i: 1 for i in range(n)})
        base += 1000
    return out


def test_small_cells_are_suppressed_and_totals_exclude_them() -> None:
    """Cells under k are hidden; totals count only what is shown."""
    result = suppress(cells(a=9, b=8, c=2, d=1), 5)
    assert [(c.label, c.people) for c in result.cells] == [("a", 9), ("b", 8)]
    assert result.total_people == 17 and result.suppressed == 2


def test_single_suppressed_cell_gets_a_complement() -> None:
    """With exactly one small cell the next smallest is hidden too."""
    result = suppress(cells(a=9, b=6, c=7, d=1), 5)
    assert [(c.label, c.people) for c in result.cells] == [("a", 9), ("c", 7), (OTHER, 7)]
    assert result.suppressed == 2
    alone = suppress(cells(a=9, b=6, d=1), 8)
    assert [c.label for c in alone.cells] == ["a"], "b is hidden with d; their pool (7) < 8"


def test_other_pool_shown_only_when_it_reaches_k() -> None:
    """The pooled suppressed cells appear as one line only when they have >= k people."""
    shown = suppress(cells(a=9, b=3, c=3), 5)
    assert shown.cells[-1].label == OTHER and shown.cells[-1].people == 6
    hidden = suppress(cells(a=9, b=2, c=2), 5)
    assert [c.label for c in hidden.cells] == ["a"]


def test_min_people_never_below_two() -> None:
    """k = 1 would publish single people: refused."""
    with pytest.raises(InvalidInput):
        suppress(cells(a=3), 1)


def seeded(target: str) -> str:
    """A: 8 people at 09h, 1 at 10h, 6 at 11h, 7 at 12h; B: 2 people at 10h."""
    path = target
    with Store.open(path) as store:
        for name, word in (("A", "ACODE"), ("B", "BCODE")):
            b = store.directory.add_business(name, now=T0)
            store.directory.add_code(b.id, word, "ok", now=T0)
        plan = [(1, 9)] * 8 + [(1, 10)] + [(1, 11)] * 6 + [(1, 12)] * 7 + [(2, 10)] * 2
        for i, (business, hour) in enumerate(plan):
            at = T0 + timedelta(hours=hour)
            msg = store.inbox.record_incoming(
                sender=f"+4477009002{i:02d}",
                sender_type="international",
                text="X",
                received_at=at,
                scts=at,
            )
            assert msg is not None
            store.routing.apply(msg, Plan(create_person=True,
                                  requests=(RequestDraft(business, business),)), at)  # fmt: skip
    return path


def stats(db: Path, *args: str) -> dict[str, object]:
    """`smsd stats --json ARGS` as a dict."""
    result = CliRunner().invoke(cli, ["--db", str(db), "stats", "--json", *args])
    assert result.exit_code == 0, result.output
    doc: dict[str, object] = json.loads(result.stdout)
    return doc


def test_differencing_all_minus_one_business_reveals_nothing(db_target: str) -> None:
    """All-business cells are built only from cells each business may publish."""
    db = seeded(db_target)
    overall = stats(db, "--by", "hour", "--min-people", "2")
    only_a = stats(db, "--by", "hour", "--min-people", "2", "--company", "A")
    # A's 10h cell (1 person) is hidden with its complement (11h); B's 10h (2 people) is shown.
    a_hours = {c["label"]: c["people"] for c in only_a["cells"]}  # type: ignore[attr-defined]
    assert a_hours == {"09": 8, "12": 7, OTHER: 7}
    hours = {c["label"]: c["people"] for c in overall["cells"]}  # type: ignore[attr-defined]
    assert hours == {"09": 8, "10": 2, "12": 7}, "A's lone 10h person is not added to B's"
    assert overall["total_people"] == 17


def test_cli_table_has_bar_chart_and_suppression_note(db_target: str) -> None:
    """The table shows bars and says how many cells were suppressed."""
    db = seeded(db_target)
    result = CliRunner().invoke(cli, ["--db", str(db), "stats", "--by", "hour"])
    assert result.exit_code == 0, result.output
    assert "#" in result.stdout and "suppressed" in result.stdout
    assert "09" in result.stdout and "12" in result.stdout
    assert "\n10 " not in result.stdout and "\n11 " not in result.stdout


def test_cli_min_people_one_is_a_usage_error(tmp_path: Path) -> None:
    """--min-people 1 exits 2."""
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "x.db"), "stats", "--min-people", "1"])
    assert result.exit_code == 2
