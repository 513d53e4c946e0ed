"""Incoming messages: durable recording, dedupe, multipart reassembly, malformed PDUs.

A message is committed here before the daemon deletes it from the SIM, and the `dedupe_key`
makes recording idempotent: a message read again after a crash returns None the second time.

Multipart parts are rows in state 'partial', grouped by (sender, concat_ref, concat_total) and
not yet `part_of` anything. When the last part arrives (in any order, across restarts) the
store writes the reassembled message as a new row in state 'new' and points every part at it;
`expired_partials` does the same for groups that stopped growing, joining what is there.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from store.base import Part, fetch_rows, from_ts, to_ts
from store.batch import Batch, insert_rows, write_later
from store.digest import sha256_hex
from store.errors import NotFound
from store.logger import get_logger
from store.models_inbox import Incoming, IncomingDraft

__all__ = ["Inbox", "dedupe_key", "location_key"]

log = get_logger(__name__)


def dedupe_key(
    sender: str,
    scts: datetime | None,
    concat: tuple[int, int, int] | None,
    content: str,
    location: str = "",
) -> str:
    """Identity of a message copy: sender, SCTS, concat ids, content and where it is stored.

    SCTS has one-second resolution, so two real messages with the same text can share it
    (an auto-responder does that). What tells a re-read copy from a new message is that the
    re-read copy is still in its storage slot: the key includes the location, and it is
    released (`release_location`) once the copy is deleted from the modem, so a later message
    with the same content and the same slot is new again.
    """
    digest = sha256_hex(content.encode("utf-8", "surrogatepass"))
    ref = "-" if concat is None else "/".join(str(n) for n in concat)
    stamp = "-" if scts is None else to_ts(scts)
    return f"{sender}|{stamp}|{ref}|{digest}|{location}"


def location_key(modem: str | None, storage: str | None, storage_index: int | None) -> str:
    """Where a copy lives: modem/storage/index, or modem/direct for +CMT deliveries."""
    where = "direct" if storage_index is None else f"{storage or ''}/{storage_index}"
    return f"{modem or ''}/{where}"


_INSERT_SQL = (
    "INSERT INTO incoming (modem, storage, storage_index, sender, sender_type, scts,"
    " received_at, text, raw_pdu, encoding, concat_ref, concat_total, concat_seq,"
    " state, dedupe_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (dedupe_key) DO NOTHING"
)
# `=` where it can (both known): PostgreSQL's IS NOT DISTINCT FROM cannot use the live-copy
# index and scans the table.
_RELEASE_SQL = (
    "UPDATE incoming SET dedupe_key = dedupe_key || '#released:' || id"
    " WHERE modem = ? AND storage = ? AND storage_index IN"
    " (SELECT CAST(value AS INTEGER) FROM json_each(?))"
    " AND dedupe_key NOT LIKE '%#released:%'"
)


def _row(d: IncomingDraft) -> tuple[Any, ...]:
    """The `_INSERT_SQL` parameters of a draft (with its dedupe key)."""
    content = d.text if d.text is not None else (d.raw_pdu or "")
    location = location_key(d.modem, d.storage, d.storage_index)
    concat = d.concat
    multipart = concat is not None and concat[1] > 1
    return (
        d.modem,
        d.storage,
        d.storage_index,
        d.sender,
        d.sender_type,
        None if d.scts is None else to_ts(d.scts),
        to_ts(d.received_at),
        d.text,
        d.raw_pdu,
        d.encoding,
        *(concat if concat is not None else (None, None, None)),
        "partial" if multipart else "new",
        dedupe_key(d.sender, d.scts, concat, content, location),
    )


def _incoming(row: dict[str, Any]) -> Incoming:
    received = from_ts(row["received_at"])
    assert received is not None
    return Incoming(
        id=row["id"],
        modem=row["modem"],
        sender=row["sender"],
        sender_type=row["sender_type"],
        scts=from_ts(row["scts"]),
        received_at=received,
        text=row["text"],
        encoding=row["encoding"],
        concat_ref=row["concat_ref"],
        concat_total=row["concat_total"],
        concat_seq=row["concat_seq"],
        state=row["state"],
        error=row["error"],
        raw_pdu=row["raw_pdu"],
        storage=row["storage"],
        storage_index=row["storage_index"],
    )


class Inbox(Part):
    """Recording and reading incoming messages (`store.inbox`)."""

    def record_incoming(
        self,
        *,
        sender: str,
        sender_type: str,
        text: str | None,
        received_at: datetime,
        scts: datetime | None = None,
        raw_pdu: str | None = None,
        encoding: str | None = None,
        concat: tuple[int, int, int] | None = None,
        modem: str | None = None,
        storage: str | None = None,
        storage_index: int | None = None,
    ) -> int | None:
        """Store one message or part; return the id to process next, or None if seen before.

        `concat` is (reference, total, sequence). For a part that completes its message the id
        returned is the reassembled message's; for any other part it is the part's own id
        (state 'partial', which `process_incoming` leaves alone).
        """
        draft = IncomingDraft(
            sender, sender_type, text, received_at, scts, raw_pdu, encoding, concat,
            modem, storage, storage_index,
        )  # fmt: skip
        with self.core.transaction():
            return self._insert_incoming(draft)

    def record_incoming_many(self, drafts: Sequence[IncomingDraft]) -> list[int | None]:
        """Store several messages in ONE transaction (one fsync); an id or None for each.

        Each result is what `record_incoming` would have returned for that draft, in order
        (a later part in the same batch can complete a multipart message). All or nothing:
        if any insert fails, none is kept and the caller must delete nothing from the modem.
        Without multipart parts the batch is one statement for all rows (`store.batch`).
        The ids of `record_and_read`.
        """
        return [None if m is None else m.id for m in self.record_and_read(drafts)]

    def record_and_read(self, drafts: Sequence[IncomingDraft]) -> list[Incoming | None]:
        """`record_incoming_many`, returning each message as stored (None for a duplicate):
        the INSERT returns the rows (`store.batch.insert_rows`), so routing them reads
        nothing again. A burst with multipart parts: one insert per part, then the messages
        their ids name, read."""
        with self.core.transaction():
            if any(d.concat is not None and d.concat[1] > 1 for d in drafts):
                ids = [self._insert_incoming(draft) for draft in drafts]
                return [None if i is None else self.get_incoming(i) for i in ids]
            batch = Batch(_INSERT_SQL, [_row(d) for d in drafts], key=("dedupe_key", 14))
            rows = insert_rows(self.core, batch)
        for draft, row in zip(drafts, rows, strict=True):
            if row is None:
                log.info("incoming_duplicate_skipped", sender_type=draft.sender_type)
        return [None if row is None else _incoming(row) for row in rows]

    def _insert_incoming(self, d: IncomingDraft) -> int | None:
        concat = d.concat
        multipart = concat is not None and concat[1] > 1
        cur = self.core.db.execute(_INSERT_SQL, _row(d))
        if cur.rowcount == 0:
            log.info("incoming_duplicate_skipped", sender_type=d.sender_type)
            return None
        row_id = int(cur.lastrowid or 0)
        if multipart and concat is not None:
            complete = self._complete_group(d.sender, concat[0], concat[1], d.received_at)
            return row_id if complete is None else complete
        return row_id

    def release_location(
        self, modem: str | None, storage: str | None, storage_index: int | None
    ) -> int:
        """The modem deleted (or acknowledged) the copy at this location: a new message with
        the same content may arrive there. Returns how many rows were released."""
        with self.core.transaction() as db:
            cur = db.execute(
                "UPDATE incoming SET dedupe_key = dedupe_key || '#released:' || id"
                " WHERE modem IS ? AND storage IS ? AND storage_index IS ?"
                " AND dedupe_key NOT LIKE '%#released:%'",
                (modem, storage if storage_index is not None else None, storage_index),
            )
            return int(cur.rowcount)

    def release_locations(
        self, modem: str | None, storage: str | None, indexes: Sequence[int | None]
    ) -> None:
        """`release_location` for several copies the modem deleted, inside the caller's write
        transaction (or one of its own): one statement for the stored ones, which on
        PostgreSQL rides with the transaction's next statement (`store.batch.write_later`);
        one more for a copy delivered directly."""
        slots = sorted({i for i in indexes if i is not None})
        with self.core.transaction():
            if slots and modem is not None and storage is not None:
                write_later(self.core, _RELEASE_SQL, (modem, storage, json.dumps(slots)))
            elif slots:
                for i in slots:
                    self.release_location(modem, storage, i)
            if None in indexes:
                self.release_location(modem, storage, None)

    def release_absent(self, modem: str, storage: str, occupied: Collection[int]) -> int:
        """Release every live copy of `modem`/`storage` whose slot a sweep found empty.

        A crash between deleting a copy and releasing its key leaves the key live; the next
        sweep sees the slot empty (or the listing proves the copy is gone) and releases it, so
        a new message with the same text can later land in that slot and still be taken.
        """
        where = (  # constant SQL; values are bound
            " WHERE modem IS ? AND storage IS ? AND storage_index IS NOT NULL"
            " AND dedupe_key NOT LIKE '%#released:%'"
            " AND storage_index NOT IN (SELECT CAST(value AS INTEGER) FROM json_each(?))"
        )
        params = (modem, storage, json.dumps(sorted(occupied)))
        if self._one("SELECT 1 AS x FROM incoming" + where + " LIMIT 1", params) is None:  # noqa: S608
            return 0  # the usual case: a read, no write transaction
        with self.core.transaction() as db:
            cur = db.execute(
                "UPDATE incoming SET dedupe_key = dedupe_key || '#released:' || id" + where,  # noqa: S608
                params,
            )
            return int(cur.rowcount)

    def record_malformed(
        self,
        *,
        raw_pdu: str,
        reason: str,
        received_at: datetime,
        modem: str | None = None,
        storage: str | None = None,
        storage_index: int | None = None,
    ) -> int | None:
        """Keep an undecodable PDU as-is with the reason; None if this PDU was stored already."""
        key = "malformed|" + sha256_hex(raw_pdu.encode())
        with self.core.transaction() as db:
            cur = db.execute(
                "INSERT INTO incoming (modem, storage, storage_index, sender, sender_type,"
                " received_at, raw_pdu, state, error, dedupe_key)"
                " VALUES (?, ?, ?, '', 'unknown', ?, ?, 'malformed', ?, ?)"
                " ON CONFLICT (dedupe_key) DO NOTHING",
                (modem, storage, storage_index, to_ts(received_at), raw_pdu, reason, key),
            )
            return None if cur.rowcount == 0 else int(cur.lastrowid or 0)

    def get_incoming(self, incoming_id: int) -> Incoming:
        """One incoming row; `NotFound` otherwise."""
        rows = fetch_rows(self.core, "SELECT * FROM incoming WHERE id = ?", (incoming_id,))
        row = rows[0] if rows else None
        if row is None:
            raise NotFound(f"no incoming message {incoming_id}")
        return _incoming(row)

    def list(self, *, state: str | None = None, limit: int = 100) -> builtins.list[Incoming]:
        """Newest incoming messages first; parts already merged into a message are left out."""
        where = "part_of IS NULL" + ("" if state is None else " AND state = ?")
        params: tuple[Any, ...] = () if state is None else (state,)
        rows = self._rows(
            f"SELECT * FROM incoming WHERE {where} ORDER BY id DESC LIMIT ?",  # noqa: S608
            (*params, limit),
        )
        return [_incoming(r) for r in rows]

    def unrouted(self) -> builtins.list[int]:
        """Ids of messages recorded but not yet routed (state 'new'), oldest first.

        The daemon calls this at start: a crash between `record_incoming` and
        `process_incoming` leaves such rows behind.
        """
        rows = self._rows("SELECT id FROM incoming WHERE state = 'new' ORDER BY id")
        return [int(r["id"]) for r in rows]

    def recent_texts(self, sender: str, since: datetime, *, before_id: int) -> builtins.list[str]:
        """Texts this sender sent since `since`, before message `before_id` (loop detection)."""
        rows = self._rows(
            "SELECT text FROM incoming WHERE sender = ? AND received_at >= ? AND id < ?"
            " AND part_of IS NULL AND text IS NOT NULL AND state != 'partial' ORDER BY id",
            (sender, to_ts(since), before_id),
        )
        return [str(r["text"]) for r in rows]

    def loop_marked_since(self, sender: str, since: datetime) -> bool:
        """True if a message from `sender` since `since` was already flagged as a loop."""
        row = self._one(
            "SELECT 1 FROM incoming WHERE sender = ? AND received_at >= ? AND error = 'loop'",
            (sender, to_ts(since)),
        )
        return row is not None

    def expired_partials(self, now: datetime, older_than: timedelta) -> builtins.list[int]:
        """Reassemble incomplete groups with no new part for `older_than`; return the new ids."""
        cutoff = to_ts(now - older_than)
        with self.core.transaction() as db:
            groups = list(
                db.query(
                    "SELECT sender, concat_ref, concat_total, max(received_at) AS last"
                    " FROM incoming WHERE state = 'partial' AND part_of IS NULL"
                    " GROUP BY sender, concat_ref, concat_total HAVING max(received_at) < ?",
                    (cutoff,),
                )
            )
            ids = [
                self._assemble(g["sender"], g["concat_ref"], g["concat_total"], now, complete=False)
                for g in groups
            ]
        if ids:
            log.info("partials_expired", count=len(ids))
        return ids

    def _complete_group(self, sender: str, ref: int, total: int, now: datetime) -> int | None:
        row = self._one(
            "SELECT count(DISTINCT concat_seq) AS n FROM incoming WHERE state = 'partial'"
            " AND part_of IS NULL AND sender = ? AND concat_ref = ? AND concat_total = ?",
            (sender, ref, total),
        )
        if row is None or row["n"] < total:
            return None
        return self._assemble(sender, ref, total, now, complete=True)

    def _assemble(self, sender: str, ref: int, total: int, now: datetime, *, complete: bool) -> int:
        with self.core.transaction() as db:
            parts = list(
                db.query(
                    "SELECT * FROM incoming WHERE state = 'partial' AND part_of IS NULL"
                    " AND sender = ? AND concat_ref = ? AND concat_total = ?"
                    " ORDER BY concat_seq, id",
                    (sender, ref, total),
                )
            )
            by_seq: dict[int, dict[str, Any]] = {}
            for part in parts:
                by_seq.setdefault(part["concat_seq"], part)  # a resent part: first copy wins
            ordered = [by_seq[seq] for seq in sorted(by_seq)]
            first = ordered[0]
            binary = all(p["text"] is None for p in ordered)
            cur = db.execute(
                "INSERT INTO incoming (modem, sender, sender_type, scts, received_at, text,"
                " encoding, concat_ref, concat_total, state, error, dedupe_key)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'new', ?, ?)",
                (
                    first["modem"],
                    sender,
                    first["sender_type"],
                    first["scts"],
                    to_ts(now),
                    None if binary else "".join(p["text"] or "" for p in ordered),
                    first["encoding"],
                    ref,
                    total,
                    None if complete else f"incomplete: {len(ordered)} of {total} parts",
                    f"assembled|{first['dedupe_key']}",
                ),
            )
            new_id = int(cur.lastrowid or 0)
            marks = ",".join("?" * len(parts))
            db.execute(
                f"UPDATE incoming SET part_of = ? WHERE id IN ({marks})",  # noqa: S608
                (new_id, *(p["id"] for p in parts)),
            )
            return new_id
