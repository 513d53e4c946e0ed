"""`copy_store`: a SQLite gateway moved to PostgreSQL, every row, proven by counts and checksums."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from test_store_scale import populate

from store import Conflict, Plan, ReplyDraft, RequestDraft, Store, StoreError
from store.transfer import copy_store, table_checksum, verify_copy

if TYPE_CHECKING:
    from smsd.testing.pgcluster import PgCluster

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _seeded(path: Path) -> Store:
    store = Store.open(path)
    populate(store)
    store.webhooks.add(None, "https://ops.example/hook", now=T0)  # events and deliveries too
    msg = store.inbox.record_incoming(
        sender="+447700900999", sender_type="international", text="B0C0", received_at=T0,
        scts=T0,
    )  # fmt: skip
    assert msg is not None
    store.routing.apply(
        msg,
        Plan(create_person=True, requests=(RequestDraft(1, 1),),
             replies=(ReplyDraft("code {user_code}", "user_code"),)),
        T0,
    )  # fmt: skip
    store.modems.record_modem_status("m0", "sim", healthy=True, now=T0, details={"csq": 17})
    with store.transaction() as db:  # a multipart part pointing at a later row
        db.execute("UPDATE incoming SET part_of = (SELECT max(id) FROM incoming) WHERE id = 1")
    return store


def test_copy_moves_every_row_and_ids_continue(tmp_path: Path, pg_cluster: PgCluster) -> None:
    """Every table arrives with equal counts and checksums (no trigger fired on the copied
    rows); new rows draw fresh ids, and the triggers are on again for them."""
    url = pg_cluster.fresh_url()
    with _seeded(tmp_path / "old.db") as source, Store.open(url) as dest:
        report = {t.table: t.rows for t in copy_store(source, dest)}
        assert report["requests"] == 901 and report["people"] == 81
        assert report["incoming"] == 1 and report["modem_status"] == 1
        assert dest.routing.history("Biz 0") == source.routing.history("Biz 0")
        part_of = "SELECT part_of FROM incoming WHERE id = 1"
        assert dest.db.execute(part_of).fetchone()[0] == 1  # the only incoming row: itself
        fresh = dest.directory.add_business("After the move", now=T0 + timedelta(days=1))
        assert fresh.id == 7
        assert report["events"] == 2 and report["webhook_deliveries"] == 2
        dest.modems.record_modem_status("m0", "sim", healthy=False, now=T0)
        assert [d["kind"] for d in dest.events.deliveries()][-1] == "modem.down"


def test_copy_refuses_a_destination_with_rows(tmp_path: Path, pg_cluster: PgCluster) -> None:
    """A destination that already holds data is refused before anything is written."""
    url = pg_cluster.fresh_url()
    with _seeded(tmp_path / "old.db") as source, Store.open(url) as dest:
        dest.directory.add_business("Already here", now=T0)
        with pytest.raises(Conflict, match="not empty"):
            copy_store(source, dest)


def test_verification_catches_a_changed_row(tmp_path: Path, pg_cluster: PgCluster) -> None:
    """A row changed after the copy makes the verification name the table."""
    url = pg_cluster.fresh_url()
    with _seeded(tmp_path / "old.db") as source, Store.open(url) as dest:
        copy_store(source, dest)
        with dest.transaction() as db:
            db.execute("UPDATE codes SET reply = 'tampered' WHERE id = 3")
        with pytest.raises(StoreError, match=r"codes differs.*same count"):
            verify_copy(source, dest)


def test_checksum_ignores_order_but_not_types() -> None:
    """Same rows in another order: same checksum; '1' instead of 1: another one."""
    rows = [(1, "a", None), (2, "b", b"\x00")]
    assert table_checksum(rows) == table_checksum(list(reversed(rows)))
    assert table_checksum([(1, "a")]) != table_checksum([("1", "a")])
