"""A copy re-read after a crash is a duplicate; the same text again is a new message."""

from __future__ import annotations

from datetime import UTC, datetime

from store.store import Store

SCTS = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)


def record(store: Store, index: int | None, text: str = "I am away") -> int | None:
    """Record one message from the same sender with the same SCTS at ``index``."""
    return store.inbox.record_incoming(
        sender="+447700900001",
        sender_type="international",
        text=text,
        received_at=SCTS,
        scts=SCTS,
        modem="modem0",
        storage="SM" if index is not None else None,
        storage_index=index,
    )


def test_reread_copy_is_duplicate_until_released(db_target: str) -> None:
    """The same slot read twice is one message; after the delete the slot may hold a new one."""
    store = Store.open(db_target)
    assert record(store, 1) is not None
    assert record(store, 1) is None  # crash before CMGD: the sweep reads it again
    assert store.inbox.release_location("modem0", "SM", 1) == 1
    assert record(store, 1) is not None  # a real new message, same text, same second, same slot
    assert store.inbox.release_location("modem0", "SM", 1) == 1
    assert store.inbox.release_location("modem0", "SM", 1) == 0


def test_same_text_same_second_other_slot_is_new(db_target: str) -> None:
    """Two identical texts in one SCTS second, stored in two slots, are two messages."""
    store = Store.open(db_target)
    assert record(store, 1) is not None
    assert record(store, 2) is not None


def test_direct_delivery_released_by_ack(db_target: str) -> None:
    """+CMT copies are keyed as direct; the CNMA releases them."""
    store = Store.open(db_target)
    assert record(store, None) is not None
    assert record(store, None) is None  # redelivered because we died before AT+CNMA
    assert store.inbox.release_location("modem0", None, None) == 1
    assert record(store, None) is not None


def test_sweep_releases_keys_of_emptied_slots(db_target: str) -> None:
    """A crash between CMGD and the release leaves a live key; the next sweep frees it."""
    store = Store.open(db_target)
    assert record(store, 1) is not None
    assert record(store, 2, "other") is not None
    # The copy in slot 1 was deleted but not released (crash); slot 2 is still occupied.
    assert store.inbox.release_absent("modem0", "SM", occupied=[2]) == 1
    assert record(store, 1) is not None  # a new identical message in slot 1 is taken
    assert record(store, 2, "other") is None  # slot 2's copy is still the same message
    assert store.inbox.release_absent("modem0", "SM", occupied=[1, 2]) == 0
    store.close()
