"""The simulated SIM's message storage ("SM"): numbered slots holding PDUs.

Slots survive a modem reboot or replug (they live on the SIM card), exactly like the
messages a daemon must sweep with ``AT+CMGL=4`` after it was down.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["STAT_READ", "STAT_UNREAD", "SmsStorage", "StoredPdu"]

STAT_UNREAD = 0  # REC UNREAD
STAT_READ = 1  # REC READ
STAT_UNSENT = 2  # STO UNSENT
STAT_SENT = 3  # STO SENT
ALL = 4


@dataclass
class StoredPdu:
    """One occupied slot."""

    stat: int
    pdu: str  # upper-case hex with the SMSC octets in front

    @property
    def tpdu_length(self) -> int:
        """The ``<length>`` field of +CMGL/+CMGR: octets after the SMSC part."""
        smsc_octets = int(self.pdu[:2], 16) if self.pdu else 0
        return len(self.pdu) // 2 - 1 - smsc_octets


class SmsStorage:
    """Fixed-size slot storage; indices start at ``base`` (0 on Huawei, 1 elsewhere)."""

    def __init__(self, size: int, base: int = 1) -> None:
        if size < 1:
            raise ValueError("storage needs at least one slot")
        self.size = size
        self.base = base
        self.full_override = False  # the "storage_full" fault: refuse even with free slots
        self._slots: list[StoredPdu | None] = [None] * size

    @property
    def used(self) -> int:
        """Occupied slots."""
        return sum(1 for slot in self._slots if slot is not None)

    def has_room(self) -> bool:
        """Whether a new message can be stored now."""
        return not self.full_override and self.used < self.size

    def valid(self, index: int) -> bool:
        """Whether ``index`` names a slot of this storage (occupied or not)."""
        return self.base <= index < self.base + self.size

    def store(self, pdu: str, stat: int = STAT_UNREAD) -> int | None:
        """Put ``pdu`` in the lowest free slot and return its index, or None when full."""
        if not self.has_room():
            return None
        pos = self._slots.index(None)
        self._slots[pos] = StoredPdu(stat, pdu)
        return pos + self.base

    def read(self, index: int, *, mark_read: bool = True) -> StoredPdu | None:
        """The slot's content (None if empty); reading marks a received message as read."""
        slot = self._slots[index - self.base]
        if slot is None:
            return None
        current = StoredPdu(slot.stat, slot.pdu)
        if mark_read and slot.stat == STAT_UNREAD:
            slot.stat = STAT_READ
        return current

    def listing(self, stat: int, *, mark_read: bool = True) -> list[tuple[int, StoredPdu]]:
        """``(index, slot)`` for every message with ``stat`` (4 = all), in index order."""
        found = [
            (pos + self.base, slot)
            for pos, slot in enumerate(self._slots)
            if slot is not None and stat in (ALL, slot.stat)
        ]
        return [(index, self.read(index, mark_read=mark_read) or slot) for index, slot in found]

    def delete(self, index: int) -> bool:
        """Empty one slot; True if it held a message."""
        had = self._slots[index - self.base] is not None
        self._slots[index - self.base] = None
        return had

    def delete_flagged(self, flag: int) -> int:
        """``AT+CMGD=<i>,<flag>`` with flag 1..4: bulk delete by status; return how many went."""
        doomed = {1: {STAT_READ}, 2: {STAT_READ, STAT_SENT}, 3: {STAT_READ, STAT_SENT, STAT_UNSENT}}
        statuses = doomed.get(flag, {STAT_UNREAD, STAT_READ, STAT_SENT, STAT_UNSENT})
        count = 0
        for pos, slot in enumerate(self._slots):
            if slot is not None and slot.stat in statuses:
                self._slots[pos] = None
                count += 1
        return count
