"""The rules store parts on real SQLite, fed through the pipeline: consent, polls, schedules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from smsd.pipeline import process_incoming
from smsd.router import Rules
from store import Conflict, InvalidInput, Store
from store.schedules import next_run

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
ALICE = "+447700900123"
RULES = Rules(gateway_name="Textline", contact="help@example.org")


@pytest.fixture
def store(db_target: str) -> Iterator[Store]:
    """A store with Pizza Co (PIZZA) and Book Shop (BOOKS)."""
    s = Store.open(db_target)
    s.directory.add_business("Pizza Co", now=T0)
    s.directory.add_business("Book Shop", now=T0)
    s.directory.add_code("Pizza Co", "PIZZA", "Hot pizza", now=T0)
    s.directory.add_code("Book Shop", "BOOKS", "Read on", now=T0)
    yield s
    s.close()


class Clock:
    """Texts into the store at increasing times, routed as the daemon would."""

    def __init__(self, store: Store) -> None:
        self.store, self.at = store, T0

    def text(self, body: str, number: str = ALICE) -> list[str]:
        """Deliver and route `body`; return the texts queued in answer."""
        self.at += timedelta(seconds=1)
        msg = self.store.inbox.record_incoming(
            sender=number, sender_type="international", text=body, received_at=self.at, scts=self.at
        )
        assert msg is not None
        done = process_incoming(self.store, msg, self.at, RULES)
        assert done is not None
        return [self.store.outbox.get_outgoing(i).text for i in done.outgoing_ids]


def test_double_optin_records_the_optin_only_after_yes(store: Store) -> None:
    """Double opt-in: PIZZA is pending (asked for YES), YES records the opt-in and replies."""
    pizza = store.directory.get_business("Pizza Co")
    store.consent.set_policy(pizza.id, double_opt_in=True)
    clock = Clock(store)
    first = clock.text("PIZZA")
    assert "YES" in first[-1] and "Hot pizza" not in first
    person = store.directory.find_person(ALICE)
    assert person is not None and store.routing.optin_status(person.id) == {}
    assert "Hot pizza" in clock.text("yes")
    assert store.routing.optin_status(person.id) == {pizza.id: True}
    records = store.consent.records(business_id=pizza.id)
    assert [(r.kind, r.received) for r in records] == [("pending", "PIZZA"), ("in", "yes")]
    assert all(r.confirmation and r.confirmation_state == "queued" for r in records)
    assert store.consent.pending_keywords(person.id) == []


def test_consent_record_channels_filters_and_no_phone(store: Store) -> None:
    """Each event has time, channel, text as received and its confirmation; no phone anywhere."""
    clock = Clock(store)
    clock.text("PIZZA")
    clock.text("BOOKS")
    clock.text("Please stop texting me")
    person = store.directory.find_person(ALICE)
    assert person is not None
    everything = store.consent.records()
    assert [(r.business, r.kind) for r in everything][-3:] == [
        ("Pizza Co", "out"), ("Book Shop", "out"), (None, "out")
    ]  # fmt: skip
    assert {r.channel for r in everything} == {"sms"}
    assert everything[-1].received == "Please stop texting me"
    assert "START" in (everything[-1].confirmation or "")
    pizza = store.directory.get_business("Pizza Co")
    mine = store.consent.records(business_id=pizza.id)
    assert [r.kind for r in mine] == ["in", "out"] and {r.user_code for r in mine} == {
        person.user_code
    }
    assert ALICE not in repr(everything)
    assert store.consent.records(user_code="NOBODY") == []


def test_opted_out_numbers(store: Store) -> None:
    """A number is opted out after STOP (even a new number) until it opts in somewhere again."""
    clock = Clock(store)
    clock.text("PIZZA")
    assert not store.consent.opted_out(ALICE)
    clock.text("STOP")
    assert store.consent.opted_out(ALICE)
    clock.text("BOOKS")
    assert not store.consent.opted_out(ALICE)
    clock.text("ARRET", number="+447700900999")
    assert store.consent.opted_out("+447700900999")
    assert not store.consent.opted_out("+447700900555")


def test_poll_votes_replace_and_results_are_suppressed(store: Store) -> None:
    """One vote per person (the last counts); options under k people are hidden, complement too."""
    vote = store.directory.add_code("Pizza Co", "VOTE", "Thanks", now=T0)
    poll = store.polls.create(vote.id, vote.business_id, ["a", "b", "c"], now=T0)
    clock = Clock(store)
    numbers = [f"+4477009001{i:02d}" for i in range(12)]
    for i, number in enumerate(numbers):
        clock.text("VOTE " + "AB"[i % 2], number)
    clock.text("vote c", numbers[0])  # changes its A into C
    result = store.polls.results(poll.id, k=5)
    # A=5, B=6, C=1: C is under k, so the next smallest (A) is hidden too.
    assert result.counts == (("A", None), ("B", 6), ("C", None)) and result.voters == 12
    store.polls.close(poll.id, now=clock.at)
    assert "closed" in clock.text("VOTE B", numbers[0])[0]
    assert store.polls.results(poll.id, k=5).counts[1] == ("B", 6)


def test_schedule_runs_once_per_period_and_survives_reopen(db_target: str, store: Store) -> None:
    """A daily schedule is due, moves on a day (skipping missed days), and is still there later."""
    pizza = store.directory.get_business("Pizza Co")
    sched = store.schedules.add(pizza.id, "Lunch deal", T0 + timedelta(hours=1), every="daily",
                                now=T0)  # fmt: skip
    assert store.schedules.due(T0) == []
    late = T0 + timedelta(days=3, hours=2)
    assert [s.id for s in store.schedules.due(late)] == [sched.id]
    moved = store.schedules.mark_ran(sched.id, now=late)
    assert moved.next_at == T0 + timedelta(days=4, hours=1) and moved.runs == 1
    store.close()
    with Store.open(db_target) as again:
        assert again.schedules.get(sched.id).next_at == moved.next_at
        again.schedules.cancel(sched.id, now=late)
        assert again.schedules.list_all() == []
        with pytest.raises(InvalidInput):
            again.schedules.cancel(sched.id, now=late)


def test_next_run_for_one_off_and_weekly() -> None:
    """A one-off has no next run; a weekly one lands on its weekly grid after now."""
    assert next_run(T0, None, T0) is None
    assert next_run(T0, "weekly", T0 + timedelta(days=1)) == T0 + timedelta(weeks=1)


def test_code_update_and_retire(store: Store) -> None:
    """Update replaces reply and aliases; a retired code is unknown and its keyword stays taken."""
    store.code_admin.update("pizza", reply="Cold pizza", aliases=["pie", "PİE"])
    code = store.directory.get_code("PIE")
    assert code.reply == "Cold pizza" and code.aliases == ("PIE",)
    store.code_admin.retire("PIZZA", now=T0 + timedelta(hours=1))
    assert not store.directory.get_code("PIZZA").is_active(T0 + timedelta(hours=2))
    with pytest.raises(Conflict):
        store.directory.add_code("Book Shop", "PIZZA", "Not yours")
    with pytest.raises(InvalidInput, match="retired"):
        store.code_admin.update("PIZZA", reply="again")
    assert store.code_admin.is_retired("pizza")


def test_accented_code_matches_plain_word(store: Store) -> None:
    """A code added as CAFÉ is stored folded (CAFE) and answers "café" and "ＣＡＦＥ"."""
    store.directory.add_code("Book Shop", "Café", "Coffee", now=T0)
    clock = Clock(store)
    assert "Coffee" in clock.text("café")
    assert clock.text("ＣＡＦＥ") == ["Coffee"]


def test_erasure_removes_the_number_from_consent_records(store: Store) -> None:
    """After STOP and erasure the number is nowhere in the file; the records stay by code."""
    clock = Clock(store)
    clock.text("PIZZA")
    clock.text("STOP")
    person = store.directory.find_person(ALICE)
    assert person is not None
    store.accounts.erase_everywhere(person.user_code, actor="test", reason="asked")
    assert ALICE not in "\n".join(store.db.conn.iterdump())
    assert [r.kind for r in store.consent.records(user_code=person.user_code)][-1] == "out"
