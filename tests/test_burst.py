"""Burst routing (`smsd.burst`) writes exactly what routing one message at a time writes.

The reference is the one-message path built from public pieces (`load_state`, the pure router,
`store.routing.apply`, `apply_consent`), each message in its own transaction, in order. The
same mixed burst is recorded in two fresh databases; one is routed as a burst, the other
one by one; every row routing writes must match. Surrogate ids of rows written for different
senders may interleave differently (rounds), so rows are compared keyed by the message they
answer, in their order per message; people by phone, user codes by whose they are.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from structlog.testing import capture_logs

from smsd.burst import plan_from, router_message
from smsd.consent_actions import apply_consent
from smsd.pipeline import load_state, process_many
from smsd.router import Action, route
from smsd.settings import Rules
from store import IncomingDraft, Store
from store.burst import Applied, BurstWrite, SenderFacts

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
RULES = Rules(replies_per_hour=4, loop_threshold=3, own_number="+447700900999")
OWN = "+447700900999"
TEXTS = (
    "pizza", "PIZZA", "pie", "gym", "shop please", "HELP", "STOP", "stop pizza", "START",
    "YES", "vote a", "vote z", "VOTE B", "what is this", "", "stop texting me", "UNSTOP",
    "Sorry, auto reply", "GYM", "info",
)  # fmt: skip


def _populate(store: Store) -> None:
    """Three businesses (one double opt-in), codes with an alias, a poll, earlier traffic."""
    for name, keyword in (("Pizza", "PIZZA"), ("Gym", "GYM"), ("Shop", "SHOP")):
        store.directory.add_business(name, now=T0 - timedelta(days=2))
        store.directory.add_code(name, keyword, f"{name} says hi {{user_code}}", now=T0)
    store.directory.add_alias("PIZZA", "PIE")
    store.consent.set_policy(store.directory.get_business("Gym").id, double_opt_in=True)
    vote = store.directory.add_code("Shop", "VOTE", "Votes {user_code}", now=T0)
    store.polls.create(vote.id, vote.business_id, ["A", "B"], now=T0 - timedelta(days=1))
    earlier = [("+447700900001", "pizza"), ("+447700900002", "gym"), ("+447700900003", "STOP")]
    drafts = [IncomingDraft(s, "international", t, T0 - timedelta(hours=3)) for s, t in earlier]
    ids = [i for i in store.inbox.record_incoming_many(drafts) if i is not None]
    process_many(store, ids, T0 - timedelta(hours=3), RULES)


def _burst(seed: int) -> list[IncomingDraft]:
    """A mixed burst: few senders (many repeats), floods, known and new people, multipart."""
    rng = random.Random(seed)
    senders = [f"+4477009000{i:02d}" for i in range(1, 9)] + [OWN, "VODAFONE"]
    drafts: list[IncomingDraft] = []
    for n in range(60):
        sender = rng.choice(senders)
        kind = "alphanumeric" if sender == "VODAFONE" else "international"
        at = T0 + timedelta(seconds=n)
        if rng.random() < 0.1:  # a flood: the same text again and again
            drafts += [IncomingDraft(sender, kind, "Auto: I am away", at) for _ in range(4)]
        elif rng.random() < 0.08:  # a multipart message, parts in any order
            ref = rng.randrange(256)
            parts = [(3, "please"), (1, "pizza "), (2, "now ")]
            rng.shuffle(parts)
            drafts += [
                IncomingDraft(sender, kind, text, at, concat=(ref, 3, seq)) for seq, text in parts
            ]
        else:
            drafts.append(IncomingDraft(sender, kind, rng.choice(TEXTS), at))
    return drafts


def _route_reference(store: Store, ids: list[int], now: datetime) -> dict[int, tuple[Action, ...]]:
    """One message at a time, each in its own transaction: the path before bursts."""
    done: dict[int, tuple[Action, ...]] = {}
    for incoming_id in ids:
        with store.transaction():
            message = store.inbox.get_incoming(incoming_id)
            if message.state != "new":
                continue
            state = load_state(store, message, now, RULES)
            actions = route(router_message(message), state, now, RULES)
            applied = store.routing.apply(
                incoming_id, plan_from(actions), now, loaded=(message, state.person)
            )
            apply_consent(store, message, applied.person, actions, now)
            done[incoming_id] = tuple(actions)
    return done


def _dump(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row routing writes, with surrogate ids replaced by what they stand for."""
    conn = store.db.conn
    people = {r[0]: (r[1], r[2]) for r in conn.execute("SELECT id, phone, user_code FROM people")}

    def who(person_id: int | None) -> str | None:
        return None if person_id is None else people[person_id][0]

    def text(value: str) -> str:
        for phone, code in people.values():
            value = value.replace(code, f"<code of {phone}>")
        return value

    def rows(sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in conn.execute(sql).fetchall()]

    return {
        "people": sorted((p, at) for p, at in rows("SELECT phone, created_at FROM people")),
        "incoming": rows("SELECT id, state, error, part_of FROM incoming ORDER BY id"),
        "requests": [
            (who(r[0]), *r[1:])
            for r in rows(
                "SELECT person_id, business_id, code_id, at, incoming_id FROM requests"
                " ORDER BY incoming_id, id"
            )
        ],
        "optin_events": [
            (who(r[0]), *r[1:])
            for r in rows(
                "SELECT person_id, business_id, kind, at, keyword, incoming_id"
                " FROM optin_events ORDER BY incoming_id, id"
            )
        ],
        "outgoing": [
            (r[0], text(r[1]), r[2], r[3], r[4], who(r[5]), r[6], r[7])
            for r in rows(
                "SELECT recipient, text, kind, business_id, incoming_id, person_id,"
                " state, created_at FROM outgoing ORDER BY incoming_id, id"
            )
        ],
        "gateway_consent": [
            (r[0], who(r[1]), *r[2:])
            for r in rows(
                "SELECT phone, person_id, kind, at, keyword, channel, incoming_id"
                " FROM gateway_consent ORDER BY incoming_id, id"
            )
        ],
        "optin_pending": [
            (who(r[0]), *r[1:])
            for r in rows(
                "SELECT person_id, business_id, code_id, keyword, at, incoming_id,"
                " confirmed_at, confirm_incoming_id FROM optin_pending"
                " ORDER BY incoming_id, id"
            )
        ],
        "poll_votes": sorted(
            (r[0], who(r[1]), *r[2:])
            for r in rows("SELECT poll_id, person_id, option, at, incoming_id FROM poll_votes")
        ),
    }


@pytest.fixture
def two_stores(db_target: str, request: pytest.FixtureRequest) -> Iterator[tuple[Store, Store]]:
    """Two identical fresh databases on the same backend."""
    if db_target.startswith("postgresql"):
        other = request.getfixturevalue("pg_cluster").fresh_url()
    else:
        other = db_target.replace("smsd.db", "reference.db")
    with Store.open(db_target) as burst, Store.open(other) as reference:
        _populate(burst)
        _populate(reference)
        yield burst, reference


@pytest.mark.parametrize("seed", range(4))
def test_burst_writes_what_one_by_one_writes(two_stores: tuple[Store, Store], seed: int) -> None:
    """A mixed burst routed at once leaves the same rows as routing it one message at a time."""
    burst, reference = two_stores
    drafts = _burst(seed)
    ids = burst.inbox.record_incoming_many(drafts)
    assert reference.inbox.record_incoming_many(drafts) == ids
    now = T0 + timedelta(minutes=2)
    with capture_logs() as logs:
        routed = process_many(burst, [i for i in ids if i is not None], now, RULES)
    assert "burst_routed_one_by_one" not in [e["event"] for e in logs]  # the burst path did it
    expected = _route_reference(reference, [i for i in ids if i is not None], now)
    assert routed.failed == ()
    assert {p.incoming_id: p.actions for p in routed.processed} == expected
    got, want = _dump(burst), _dump(reference)
    assert got == want
    assert len(set(ids)) < len(drafts) or len({d.sender for d in drafts}) < len(drafts)
    assert want["requests"] and want["outgoing"] and want["optin_events"]


def test_burst_covers_the_cases_it_must(two_stores: tuple[Store, Store]) -> None:
    """The generated bursts reach repeats, floods, STOP/START, YES, votes and multipart."""
    burst, _ = two_stores
    drafts = [d for seed in range(4) for d in _burst(seed)]
    ids = [i for i in burst.inbox.record_incoming_many(drafts) if i is not None]
    routed = process_many(burst, ids, T0 + timedelta(minutes=2), RULES)
    names = {type(a).__name__ for p in routed.processed for a in p.actions}
    assert {"CreatePerson", "MarkLoop", "OptOut", "OptIn", "Vote", "AwaitConfirm"} <= names
    assert {"ConfirmPending", "GatewayConsent", "Ignore"} <= names
    dump = _dump(burst)
    assert any(part is not None for _, _, _, part in dump["incoming"])
    assert any(error == "loop" for _, _, error, _ in dump["incoming"])


def test_one_sender_many_times_in_one_pass(
    two_stores: tuple[Store, Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new and a known sender texting many times in one burst (first contact, alias, STOP
    then START, a HELP flood past the reply cap, an auto-reply loop, a double opt-in and its
    YES) leave the rows one-at-a-time routing leaves; a sender is read again only after a
    double opt-in step, so the burst takes three passes, not one per message."""
    burst, reference = two_stores
    new, known = "+447700900301", "+447700900001"
    script = ["pizza", "pie", "STOP", "START", *["HELP"] * 6, *["Auto: I am away"] * 4,
              "pizza", "gym", "YES", "pizza"]  # fmt: skip
    at = [T0 + timedelta(seconds=n) for n in range(len(script))]  # distinct copies (scts)
    drafts = [
        IncomingDraft(sender, "international", text, at[n], scts=at[n])
        for n, text in enumerate(script) for sender in (new, known)
    ]  # fmt: skip
    ids = [i for i in burst.inbox.record_incoming_many(drafts) if i is not None]
    assert len(ids) == len(drafts)
    assert reference.inbox.record_incoming_many(drafts) == ids
    reads: list[list[str]] = []
    real_senders = burst.routing.burst.senders

    def counted(phones: list[str], **kwargs: Any) -> dict[str, SenderFacts]:
        reads.append(sorted(set(phones)))
        return real_senders(phones, **kwargs)

    real_both = burst.routing.burst.codes_and_senders

    def counted_with_codes(words: Any, phones: list[str], **kwargs: Any) -> Any:
        reads.append(sorted(set(phones)))  # the first pass reads its senders with the codes
        return real_both(words, phones, **kwargs)

    monkeypatch.setattr(burst.routing.burst, "senders", counted)
    monkeypatch.setattr(burst.routing.burst, "codes_and_senders", counted_with_codes)
    now = T0 + timedelta(minutes=1)
    routed = process_many(burst, ids, now, RULES)
    expected = _route_reference(reference, ids, now)
    assert routed.failed == ()
    assert {p.incoming_id: p.actions for p in routed.processed} == expected
    assert _dump(burst) == _dump(reference)
    assert reads == [sorted([new, known])] * 3  # after "gym", then after "YES"
    names = [type(a).__name__ for p in routed.processed for a in p.actions]
    for name in ("CreatePerson", "OptOut", "GatewayConsent", "MarkLoop", "AwaitConfirm",
                 "ConfirmPending"):  # fmt: skip
        assert name in names
    helps = [p for p, d in zip(routed.processed, drafts, strict=True) if d.text == "HELP"]
    assert routed.processed[0].outgoing_ids and not helps[-1].outgoing_ids  # the cap held


def test_a_raising_message_in_a_burst_is_rolled_back_alone(
    db_target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One message whose write raises: only it stays 'new' with nothing written; others routed."""
    with Store.open(db_target) as store:
        _populate(store)
        drafts = [
            IncomingDraft(f"+4477009001{i:02d}", "international", "pizza", T0) for i in range(6)
        ]
        ids = [i for i in store.inbox.record_incoming_many(drafts) if i is not None]
        bad = ids[3]
        real_apply = store.routing.burst.apply

        def apply_then_fail(writes: list[BurstWrite], now: datetime) -> list[Applied]:
            applied = real_apply(writes, now)
            if any(w.message.id == bad for w in writes):
                raise RuntimeError("bug in one message")
            return applied

        monkeypatch.setattr(store.routing.burst, "apply", apply_then_fail)
        routed = process_many(store, ids, T0, RULES)
        assert routed.failed == (bad,)
        assert [p.incoming_id for p in routed.processed] == [i for i in ids if i != bad]
        conn = store.db.conn
        states = dict(conn.execute("SELECT id, state FROM incoming WHERE id >= ?", (ids[0],)))
        assert states == {i: "new" if i == bad else "routed" for i in ids}
        written = conn.execute(
            "SELECT (SELECT count(*) FROM outgoing WHERE incoming_id = ?1)"
            " + (SELECT count(*) FROM requests WHERE incoming_id = ?1)"
            " + (SELECT count(*) FROM people WHERE phone = ?2)",
            (bad, drafts[3].sender),
        ).fetchone()
        assert written is not None and written[0] == 0


def test_a_batch_recording_a_copy_twice_keeps_one(db_target: str) -> None:
    """The same copy twice in one batch, among others: the second is None, as one at a time."""
    with Store.open(db_target) as store:
        first = IncomingDraft("+447700900001", "international", "pizza", T0, scts=T0)
        other = IncomingDraft("+447700900002", "international", "gym", T0, scts=T0)
        ids = store.inbox.record_incoming_many([first, other, first])
        assert ids[0] is not None and ids[1] is not None and ids[2] is None
        assert store.inbox.record_incoming_many([other, first]) == [None, None]
        assert [m.id for m in store.inbox.list()] == sorted([ids[0], ids[1]], reverse=True)


def test_a_statement_failing_in_a_burst_fails_its_message_alone(
    db_target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write the database refuses mid-burst (pipelined on PostgreSQL): that message stays
    'new', the others are routed, and the connection keeps working."""
    with Store.open(db_target) as store:
        _populate(store)
        known = "+447700900001"  # has a person since `_populate`
        drafts = [IncomingDraft(n, "international", "pizza again", T0) for n in
                  ("+447700900201", known, "+447700900202")]  # fmt: skip
        ids = [i for i in store.inbox.record_incoming_many(drafts) if i is not None]
        real_senders = store.routing.burst.senders

        def forget_known(phones: list[str], **kwargs: Any) -> dict[str, SenderFacts]:
            facts = real_senders(phones, **kwargs)  # a stale read: the person looks new
            return {p: SenderFacts() if p == known else f for p, f in facts.items()}

        real_both = store.routing.burst.codes_and_senders

        def forget_known_too(words: Any, phones: list[str], **kwargs: Any) -> Any:
            codes, facts = real_both(words, phones, **kwargs)
            return codes, {p: SenderFacts() if p == known else f for p, f in facts.items()}

        monkeypatch.setattr(store.routing.burst, "senders", forget_known)
        monkeypatch.setattr(store.routing.burst, "codes_and_senders", forget_known_too)
        routed = process_many(store, ids, T0, RULES)
        assert routed.failed == (ids[1],)  # its person insert hit the unique phone
        assert [p.incoming_id for p in routed.processed] == [ids[0], ids[2]]
        states = dict(store.db.conn.execute("SELECT id, state FROM incoming WHERE id >= ?",
                                            (ids[0],)))  # fmt: skip
        assert states == {ids[0]: "routed", ids[1]: "new", ids[2]: "routed"}
        monkeypatch.undo()
        assert [p.incoming_id for p in process_many(store, ids, T0, RULES).processed] == [ids[1]]
