"""Routing a burst of stored messages with a few statements, in rounds of one message per sender.

Messages from different senders do not see each other: what the router reads about a message
(the sender's person and opt-ins, the replies queued to them, their earlier texts and loop
flags, their pending double opt-ins) is all the sender's own, and the codes, policies and
polls it reads are not written by routing. Messages from the same sender do see each other
(the first creates the person, counts toward the reply cap and the loop check, STOP then
START). So a burst is routed in rounds: round k holds each sender's k-th message, in the
burst's order; each round reads the state of all its senders at once, asks the pure router
about each message, then writes every decision at once (`store.routing.burst`), so round k+1
reads what round k wrote. Each message thus sees exactly what it would see if the burst were
routed one message at a time, in order; only the surrogate ids of rows written for different
senders may interleave differently. Everything runs in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast, get_args

from smsd.consent_actions import apply_consent
from smsd.keywords import first_word
from smsd.numbers import SenderKind
from smsd.router import (
    ALL,
    Action,
    CreatePerson,
    Ignore,
    Message,
    OptIn,
    OptOut,
    RecordRequest,
    Reply,
    State,
    lookup_word,
    route,
)
from smsd.settings import Rules
from store import Code, Incoming, OptinDraft, Plan, ReplyDraft, RequestDraft, Store
from store.burst import BurstWrite, CodeRules, SenderFacts

__all__ = ["RATE_WINDOW", "Outcome", "Processed", "plan_from", "route_burst", "router_message"]

#: The window of the reply rate limit (`Rules.replies_per_hour`).
RATE_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class Processed:
    """The outcome for one message: the router's actions and the outgoing rows queued."""

    incoming_id: int
    actions: tuple[Action, ...]
    outgoing_ids: tuple[int, ...]


@dataclass(frozen=True)
class Outcome:
    """`Processed` plus what the pipeline logs about it once committed."""

    processed: Processed
    sender_type: str
    rate_limited: bool


def plan_from(actions: list[Action]) -> Plan:
    """Translate router actions into the store's write plan."""
    create = False
    requests: list[RequestDraft] = []
    optins: list[OptinDraft] = []
    replies: list[ReplyDraft] = []
    reason: str | None = None
    for action in actions:
        if isinstance(action, CreatePerson):
            create = True
        elif isinstance(action, Reply):
            replies.append(ReplyDraft(action.template, action.kind, action.business_id))
        elif isinstance(action, RecordRequest):
            requests.append(RequestDraft(action.code_id, action.business_id))
        elif isinstance(action, OptIn):
            target = action.business_id if isinstance(action.business_id, int) else None
            optins.append(OptinDraft("in", target, action.keyword))
        elif isinstance(action, OptOut):
            ids: list[int | None] = (
                [None] if action.business_ids == ALL else list(action.business_ids)
            )
            optins.extend(OptinDraft("out", b, action.keyword) for b in ids)
        elif isinstance(action, Ignore):
            reason = action.reason
    return Plan(
        create_person=create,
        requests=tuple(requests),
        optins=tuple(optins),
        replies=tuple(replies),
        state="ignored" if reason is not None else "routed",
        reason=reason,
    )


def router_message(message: Incoming) -> Message:
    """The stored message as the router sees it."""
    kinds = get_args(SenderKind)
    # An unexpected sender type is treated as one we never answer.
    kind = message.sender_type if message.sender_type in kinds else "alphanumeric"
    return Message(
        message.sender, cast(SenderKind, kind), message.text, message.received_at, message.id
    )


def route_burst(store: Store, ids: Sequence[int], now: datetime, rules: Rules) -> list[Outcome]:
    """Route the messages `ids` (see the module docstring) inside the caller's transaction
    (or one of its own); one outcome per message in state 'new', in the order of `ids`."""
    order = list(dict.fromkeys(ids))
    burst = store.routing.burst
    done: dict[int, Outcome] = {}
    with store.transaction():
        stored = burst.incoming(order)
        new = [stored[i] for i in order if stored[i].state == "new"]
        words = {m.id: lookup_word(m.text, rules.vocabulary) for m in new}
        codes = burst.codes({w for w in words.values() if w})
        for batch in _rounds(new):
            done.update(_route_round(store, batch, words, codes, now, rules))
    return [done[i] for i in order if i in done]


def _rounds(messages: list[Incoming]) -> list[list[Incoming]]:
    """Round k: each sender's k-th message, in the burst's order."""
    rounds: list[list[Incoming]] = []
    seen: dict[str, int] = {}
    for message in messages:
        k = seen.get(message.sender, 0)
        seen[message.sender] = k + 1
        if k == len(rounds):
            rounds.append([])
        rounds[k].append(message)
    return rounds


def _route_round(
    store: Store, batch: list[Incoming], words: dict[int, str | None],
    codes: dict[str, CodeRules], now: datetime, rules: Rules,
) -> list[tuple[int, Outcome]]:  # fmt: skip
    """Read the round's senders, route each message, write every decision at once."""
    facts = store.routing.burst.senders(
        [m.sender for m in batch],
        replies_since=now - RATE_WINDOW,
        texts_since=now - rules.loop_window,
        before_id=max(m.id for m in batch),
    )
    pending = _pending(store, batch, facts, codes, rules)
    writes: list[BurstWrite] = []
    decided: list[tuple[Incoming, State, list[Action]]] = []
    for message in batch:
        sender = facts[message.sender]
        state = _state(message, sender, codes.get(words[message.id] or ""), pending, rules)
        actions = route(router_message(message), state, now, rules)
        writes.append(BurstWrite(message, sender.person, sender.optins, plan_from(actions)))
        decided.append((message, state, actions))
    applied = store.routing.burst.apply(writes, now)
    out = []
    for (message, state, actions), done in zip(decided, applied, strict=True):
        apply_consent(store, message, done.person, actions, now)
        limited = state.replies_in_window >= rules.replies_per_hour and not done.outgoing_ids
        processed = Processed(message.id, tuple(actions), done.outgoing_ids)
        out.append((message.id, Outcome(processed, message.sender_type, limited)))
    return out


def _confirming(message: Incoming, rules: Rules) -> bool:
    return first_word(message.text) in rules.vocabulary.start_words


def _pending(
    store: Store, batch: list[Incoming], facts: dict[str, SenderFacts],
    codes: dict[str, CodeRules], rules: Rules,
) -> dict[int, tuple[Code, ...]]:  # fmt: skip
    """person id -> the codes awaiting their YES, for the round's YES messages (`rules_state`)."""
    people = [
        person.id
        for m in batch
        if _confirming(m, rules) and (person := facts[m.sender].person) is not None
    ]
    if not people:
        return {}
    keywords = store.routing.burst.pending_keywords(people)
    wanted = {w for found in keywords.values() for w in found if w not in codes}
    known = {**codes, **store.routing.burst.codes(wanted)}
    return {
        person: tuple(known[w].code for w in found if w in known)
        for person, found in keywords.items()
    }


def _state(
    message: Incoming, sender: SenderFacts, found: CodeRules | None,
    pending: dict[int, tuple[Code, ...]], rules: Rules,
) -> State:  # fmt: skip
    """The router's view of `message`, as `smsd.pipeline.load_state` reads it."""
    person = sender.person
    waiting: tuple[Code, ...] = ()
    if person is not None and _confirming(message, rules):
        waiting = pending.get(person.id, ())
    return State(
        person=person,
        code=None if found is None else found.code,
        optins=sender.optins,
        replies_in_window=sender.replies,
        recent_texts=sender.texts_before(message.id),
        loop_marked=sender.loop_marked,
        own_number=rules.own_number is not None and message.sender == rules.own_number,
        policy=None if found is None else found.policy,
        poll=None if found is None else found.poll,
        pending=waiting,
    )
