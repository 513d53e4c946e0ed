"""The stats roll-ups stay equal to grouping every request: folds, profile and sector moves."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from test_store_scale import T0, _old_cells, _populate

from store import Store
from store import rollups as rollups_module
from store.business_view import DIMENSIONS
from store.stats import _to_suppress, suppress

pytestmark = pytest.mark.usefixtures("fast_hashes")


@pytest.fixture
def store(db_target: str) -> Iterator[Store]:
    """The differential data set of test_store_scale, folded once."""
    with Store.open(db_target) as opened:
        _populate(opened)
        opened.rollups.fold()
        yield opened


def _tables(store: Store) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    cells = store.db.execute("SELECT * FROM stats_cells ORDER BY dim, business_id, cell")
    people = store.db.execute("SELECT * FROM stats_cell_people ORDER BY dim, cell")
    return [tuple(r) for r in cells.fetchall()], [tuple(r) for r in people.fetchall()]


def _assert_exact(store: Store) -> None:
    """Maintained tables equal a rebuild; every breakdown equals the per-business oracle."""
    store.rollups.fold()
    maintained = _tables(store)
    store.rollups.rebuild()
    assert _tables(store) == maintained
    for by in DIMENSIONS:
        for k in (2, 5):
            combined: dict[str, Counter[int]] = {}
            for owner in store.directory.list_businesses():
                cells = _old_cells(store, owner.id, by)
                hidden = _to_suppress(cells, k)
                for label, who in cells.items():
                    if label not in hidden:
                        combined.setdefault(label, Counter()).update(who)
            assert store.stats.breakdown(by, min_people=k) == suppress(combined, k, by=by), by


def _more_requests(store: Store, count: int, shift: int) -> None:
    with store.transaction() as db:
        for n in range(count):
            db.execute(
                "INSERT INTO requests (person_id, business_id, code_id, at) VALUES (?, ?, ?, ?)",
                ((n * 7 + shift) % 80 + 1, n % 6 + 1, (n % 6) * 2 + 1,
                 (T0 + timedelta(hours=n * 5 + shift)).isoformat(timespec="microseconds")),
            )  # fmt: skip


def test_folds_in_several_steps_stay_exact(store: Store) -> None:
    """New requests folded in batches (chunks smaller than a batch) equal a rebuild."""
    rollups_module._CHUNK, saved = 7, rollups_module._CHUNK
    try:
        _more_requests(store, 40, 1)
        assert store.rollups.fold() == 40
        _more_requests(store, 25, 2)
        _assert_exact(store)
    finally:
        rollups_module._CHUNK = saved


def test_profile_changes_and_erasure_move_people_between_cells(store: Store) -> None:
    """Age, gender and country changes, and an erasure, move a person's folded cells."""
    people = store.db.execute("SELECT user_code FROM people ORDER BY id").fetchall()
    for (code,), country in zip(people[:12], ["FR", "DE", "GB"] * 4, strict=True):
        store.accounts.update_person(code, {"country": country, "gender": "other"}, actor="t")
    store.accounts.erase_everywhere(people[20][0], actor="t", reason="asked")
    _more_requests(store, 10, 3)
    store.accounts.update_person(people[1][0], {"age_band": None}, actor="t")
    _assert_exact(store)


def test_sector_change_moves_a_business_and_its_people(store: Store) -> None:
    """A business changing sector moves its cell; shared people stay counted once."""
    store.accounts.update_business("Biz 0", {"sector": "food"})
    store.accounts.update_business("Biz 1", {"sector": "food"})
    _assert_exact(store)
    store.accounts.update_business("Biz 0", {"sector": "retail"})
    _assert_exact(store)


def test_a_large_backlog_is_rebuilt(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past REBUILD_BACKLOG new requests, the fold rebuilds (unless told not to)."""
    monkeypatch.setattr(rollups_module, "REBUILD_BACKLOG", 5)
    _more_requests(store, 30, 4)
    top = store.db.execute("SELECT max(id) FROM requests").fetchone()[0]
    assert store.rollups.fold(may_rebuild=False) is None  # the daemon leaves it to the CLI
    assert store.rollups.fold() == 30 and store.rollups.watermark() == top
    _assert_exact(store)
