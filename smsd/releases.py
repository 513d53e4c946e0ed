"""Dedupe keys to release: copies a modem deleted since its last burst, held for the next one.

A recorded copy's dedupe key (`store.inbox.dedupe_key`) names the copy's location (modem,
storage, slot; or modem/direct for a ``+CMT``) and stays live while the copy may still be
read again: a copy re-read after a crash is then a duplicate, not a second message. Once the
modem deleted the copy (``AT+CMGD``; ``AT+CNMA`` for a direct one) the key is released, so a
new message with the same sender, SCTS second and text landing in that slot is taken.

The ingest used to release the keys in a transaction of its own right after the deletes (two
commits per burst). Now the release rides in the NEXT transaction that runs anyway: the same
modem's next burst (`smsd.pipeline.Pipeline.burst`, which releases them before recording
anything), or, when none follows within ``delay`` seconds, a sweep finding nothing, or the
worker stopping, a small transaction of its own (`smsd.ingest.Ingest.release_pending`).

Why a key released one transaction later cannot drop or double a message:

- Not doubled: a key is released only after its copy is gone from the modem, exactly as
  before; keeping it live longer only makes a re-read copy a duplicate for longer.
- Not dropped: while a key is pending, its slot may receive a new message with the same key.
  That message can only be recorded by the same modem's worker (one thread per modem), in its
  next burst transaction, and that transaction releases the pending keys first (an UPDATE of
  the rows still live at those locations), then inserts: the new copy is taken, and its own
  fresh key is not released with the old ones. Pending keys are dropped only once the
  transaction that released them committed; a rolled-back one leaves them pending.
- A crash between the delete and the release leaves the keys live, as a crash between the
  delete and the separate release commit did before: the next sweep (at start) releases the
  keys of slots it finds empty (`store.inbox.Inbox.release_absent`). Direct deliveries have no
  slot to look at: their key stays live, as before; it refuses only a copy identical to the
  acknowledged one in sender, SCTS second and text, i.e. the network's own redelivery.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["DeletedCopies", "PendingReleases"]


@dataclass(frozen=True)
class DeletedCopies:
    """Copies deleted from a modem (or acknowledged): their dedupe keys are to be released."""

    modem: str
    storage: str | None  # None for messages delivered directly (+CMT), never stored
    indexes: tuple[int | None, ...]


@dataclass
class _Held:
    since: float  # monotonic time of the first deletion held
    slots: set[int] = field(default_factory=set)
    direct: bool = False


class PendingReleases:
    """Per modem, the copies deleted since that modem's last committed release.

    Shared by the workers (one ingest for all modems); each modem's entry is only added to,
    read and dropped by that modem's worker thread, the lock keeps the mapping itself whole.
    """

    def __init__(
        self, storage: str, delay: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.storage = storage
        self.delay = delay
        self.clock = clock
        self._held: dict[str, _Held] = {}
        self._lock = threading.Lock()

    def deleted(self, modem: str, index: int | None) -> None:
        """The modem deleted the copy at `index` of the storage (None: acknowledged a direct
        delivery): its key is to be released by the next transaction."""
        with self._lock:
            held = self._held.setdefault(modem, _Held(self.clock()))
            if index is None:
                held.direct = True
            else:
                held.slots.add(index)

    def of(self, modem: str) -> tuple[DeletedCopies, ...]:
        """What to release for `modem` now (nothing when nothing is held)."""
        with self._lock:
            held = self._held.get(modem)
            if held is None:
                return ()
            out = []
            if held.slots:
                out.append(DeletedCopies(modem, self.storage, tuple(sorted(held.slots))))
            if held.direct:
                out.append(DeletedCopies(modem, None, (None,)))
            return tuple(out)

    def released(self, modem: str, copies: tuple[DeletedCopies, ...]) -> None:
        """A committed transaction released `copies` (as `of` gave them): stop holding them."""
        with self._lock:
            held = self._held.get(modem)
            if held is None:
                return
            for c in copies:
                held.slots.difference_update(i for i in c.indexes if i is not None)
                if None in c.indexes:
                    held.direct = False
            if not held.slots and not held.direct:
                del self._held[modem]

    def seconds_until_due(self, modem: str) -> float:
        """Seconds until `modem`'s held keys should be released on their own (inf: none)."""
        with self._lock:
            held = self._held.get(modem)
        return float("inf") if held is None else max(0.0, held.since + self.delay - self.clock())
