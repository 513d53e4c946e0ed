"""A broadcast as one thing (`broadcasts` row), so its end can be announced.

`record_broadcast` runs inside `broadcast()`'s transaction: it numbers the broadcast and tags
its outgoing rows. When the last of them leaves 'queued'/'sending', the trigger
`broadcast_finished` (migration 020) writes the `broadcast.finished` event in that same
transaction; a broadcast that queued nobody is finished at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from store.base import StoreBase, to_ts

__all__ = ["record_broadcast"]


def record_broadcast(core: StoreBase, business_id: int, ids: Sequence[int], now: datetime) -> int:
    """Number a broadcast of the outgoing rows `ids` (queued in this transaction); its id."""
    with core.transaction() as db:
        cur = db.execute(
            "INSERT INTO broadcasts (business_id, created_at, queued, finished_at)"
            " VALUES (?, ?, ?, ?)",
            (business_id, to_ts(now), len(ids), None if ids else to_ts(now)),
        )
        run = int(cur.lastrowid or 0)
        if ids:
            # The rows were inserted one after another under this transaction's write lock,
            # so the id range holds exactly them.
            db.execute(
                "UPDATE outgoing SET broadcast_id = ? WHERE id BETWEEN ? AND ?"
                " AND business_id = ? AND kind = 'broadcast'",
                (run, min(ids), max(ids), business_id),
            )
        else:
            # Start-up cost: store.events (three dataclasses) only for an empty broadcast;
            # `smsd send` loads this module (store.broadcast) and never records one.
            from store.events import emit

            payload = {"broadcast_id": run, "queued": 0, "sent": 0, "failed": 0, "at": to_ts(now)}
            emit(core, "broadcast.finished", business_id, payload)
    return run
