"""The stats roll-ups stay equal to grouping every request: folds, profile and sector moves."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from test_store_scale import T0, old_cells, populate

from store import Store
from store import rollups as rollups_module
from store.business_view import DIMENSIONS
from store.errors import StoreUnavailable
from store.stats import Breakdown, cells_to_suppress, suppress

pytestmark = pytest.mark.usefixtures("fast_hashes")


@pytest.fixture
def store(db_target: str) -> Iterator[Store]:
    """The differential data set of test_store_scale, folded once."""
    with Store.open(db_target) as opened:
        populate(opened)
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
            assert store.stats.breakdown(by, min_people=k) == _oracle(store, by, k), by


def _oracle(store: Store, by: str, k: int) -> Breakdown:
    """The gateway-wide breakdown computed from every request, business by business."""
    combined: dict[str, Counter[int]] = {}
    for owner in store.directory.list_businesses():
        cells = old_cells(store, owner.id, by)
        hidden = cells_to_suppress(cells, k)
        for label, who in cells.items():
            if label not in hidden:
                combined.setdefault(label, Counter()).update(who)
    return suppress(combined, k, by=by)


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


def test_a_read_only_store_counts_what_is_not_folded_yet(
    store: Store, db_target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store that cannot fold (read-only) adds the requests above the watermark in memory:
    every breakdown is exact at once, not as of the daemon's last fold; nothing is written.
    Past REBUILD_BACKLOG it says to run `smsd db migrate` rather than compute for minutes."""
    rollups_module._CHUNK, saved = 7, rollups_module._CHUNK  # the tail in several chunks
    try:
        _more_requests(store, 30, 5)
        store.accounts.update_person(
            store.db.execute("SELECT user_code FROM people WHERE id = 6").fetchone()[0],
            {"country": "FR"}, actor="t",
        )  # fmt: skip
        folded = store.db.execute("SELECT sum(requests) FROM stats_cells WHERE dim = 'code'")
        stale = int(folded.fetchone()[0])
        with Store.open(db_target, read_only=True) as reader:
            for by in DIMENSIONS:
                for k in (2, 5):
                    assert reader.stats.breakdown(by, min_people=k) == _oracle(store, by, k), by
            assert reader.rollups.tail().upto > reader.rollups.watermark()
            monkeypatch.setattr(rollups_module, "REBUILD_BACKLOG", 5)
            with pytest.raises(StoreUnavailable, match="smsd db migrate"):
                reader.stats.breakdown("code")
    finally:
        rollups_module._CHUNK = saved
    requests = int(store.db.execute("SELECT count(*) FROM requests").fetchone()[0])
    assert stale == requests - 30  # the roll-ups lacked the 30, the answers did not
