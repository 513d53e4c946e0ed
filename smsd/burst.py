"""Routing a burst of stored messages with a few statements, usually in one pass.

Messages from different senders do not see each other: what the router reads about a message
(the sender's person and opt-ins, the replies queued to them, their earlier texts and loop
flags, their pending double opt-ins) is all the sender's own, and the codes, policies and
polls it reads are not written by routing. Messages from the same sender do see each other
(the first creates the person, counts toward the reply cap and the loop check, STOP then
START). So a pass reads the state of all its senders at once, then routes the messages in
the burst's order, each against that read plus what its sender's earlier messages in the pass
decided (`_Sender.after`: the person created, opt events, replies queued, the loop flag; the
texts are read already, as every message of the burst is stored before routing), then writes
every decision at once (`store.routing.burst`). A double opt-in step (`AwaitConfirm`,
`ConfirmPending`) changes what the sender's next YES reads, so their later messages wait for
the next pass, which reads again. Each message thus sees exactly what it would see if the
burst were routed one message at a time, in order; only the surrogate ids of rows written for
different senders may interleave differently. Everything runs in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypedDict, cast, get_args

from smsd.consent_actions import apply_consent
from smsd.keywords import first_word
from smsd.numbers import SenderKind
from smsd.router import (
    ALL,
    Action,
    AwaitConfirm,
    ConfirmPending,
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
from store import Code, Incoming, OptinDraft, Person, Plan, ReplyDraft, RequestDraft, Store
from store.base import to_ts
from store.burst import COUNTED_REPLIES, BurstWrite, CodeRules, SenderFacts, optins_after

__all__ = ["RATE_WINDOW", "Outcome", "Processed", "plan_from", "route_burst", "router_message"]

#: The window of the reply rate limit (`Rules.replies_per_hour`).
RATE_WINDOW = timedelta(hours=1)

# A sender's message after one of these waits for the next pass (it changes what a YES reads).
_READ_AGAIN = (AwaitConfirm, ConfirmPending)


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


def route_burst(
    store: Store, ids: Sequence[int], now: datetime, rules: Rules,
    known: Mapping[int, Incoming] | None = None,
) -> list[Outcome]:  # fmt: skip
    """Route the messages `ids` (see the module docstring) inside the caller's transaction
    (or one of its own); one outcome per message in state 'new', in the order of `ids`.
    `known`: the messages as this transaction just recorded them (not read again)."""
    order = list(dict.fromkeys(ids))
    burst = store.routing.burst
    done: dict[int, Outcome] = {}
    with store.transaction():
        if known is not None and all(i in known for i in order):
            stored = known
        else:
            stored = burst.incoming(order)
        left = [stored[i] for i in order if stored[i].state == "new"]
        words = {m.id: lookup_word(m.text, rules.vocabulary) for m in left}
        codes: dict[str, CodeRules] = {}
        facts = None
        if left:  # the codes and the first pass's senders in one round trip
            codes, facts = burst.codes_and_senders(
                {w for w in words.values() if w}, [m.sender for m in left],
                **_windows(left, now, rules),
            )  # fmt: skip
        while left:
            routed, left = _route_pass(store, left, words, codes, now, rules, facts)
            done.update(routed)
            facts = None  # a later pass reads its senders again
    return [done[i] for i in order if i in done]


class _Windows(TypedDict):
    replies_since: datetime
    texts_since: datetime
    before_id: int


@dataclass
class _Sender:
    """One sender as their next message in the pass sees them (`SenderFacts`, kept up to
    date with what their earlier messages in the pass decided)."""

    facts: SenderFacts
    person: Person | None
    optins: dict[int, bool]
    replies: int
    loop_marked: bool
    created: bool = False  # the person is created by an earlier message of this pass
    deferred: bool = False  # an earlier message changed what only a read can tell

    @classmethod
    def of(cls, facts: SenderFacts) -> _Sender:
        """The sender as read."""
        return cls(facts, facts.person, facts.optins, facts.replies, facts.loop_marked)

    def after(self, message: Incoming, plan: Plan, now: datetime, texts_since: str) -> None:
        """What `message`'s plan writes, as the next read would see it (`Burst.apply`)."""
        if plan.create_person and self.person is None:
            self.person = Person(0, message.sender, "", now)  # stands for the new row
            self.created = True
        if self.person is not None:
            self.optins = optins_after(self.optins, plan)
        self.replies += sum(1 for r in plan.replies if r.kind in COUNTED_REPLIES)
        if plan.reason == "loop" and to_ts(message.received_at) >= texts_since:
            self.loop_marked = True


def _windows(messages: list[Incoming], now: datetime, rules: Rules) -> _Windows:
    """What `Burst.senders` reads about the senders of `messages`."""
    return {
        "replies_since": now - RATE_WINDOW,
        "texts_since": now - rules.loop_window,
        "before_id": max(m.id for m in messages),
    }


def _route_pass(
    store: Store, messages: list[Incoming], words: dict[int, str | None],
    codes: dict[str, CodeRules], now: datetime, rules: Rules,
    facts: dict[str, SenderFacts] | None = None,
) -> tuple[list[tuple[int, Outcome]], list[Incoming]]:  # fmt: skip
    """Read every sender of `messages` once, route each message in order against that read
    and what the sender's earlier messages decided, write every decision at once. A message
    after a double opt-in step of its sender (`AwaitConfirm`, `ConfirmPending`: they change
    what a YES reads) waits for the next pass: (outcomes, messages left)."""
    loop_since = to_ts(now - rules.loop_window)
    if facts is None:
        facts = store.routing.burst.senders(
            [m.sender for m in messages], **_windows(messages, now, rules)
        )
    pending = _pending(store, messages, facts, codes, rules)
    senders = {phone: _Sender.of(known) for phone, known in facts.items()}
    writes: list[BurstWrite] = []
    decided: list[tuple[Incoming, State, list[Action]]] = []
    left: list[Incoming] = []
    for message in messages:
        sender = senders[message.sender]
        if sender.deferred:
            left.append(message)
            continue
        found = codes.get(words[message.id] or "")
        state = _state(message, sender, found, {} if sender.created else pending, rules)
        actions = route(router_message(message), state, now, rules)
        plan = plan_from(actions)
        person = None if sender.created else sender.person
        writes.append(BurstWrite(message, person, sender.optins, plan))
        decided.append((message, state, actions))
        sender.after(message, plan, now, loop_since)
        sender.deferred = any(isinstance(a, _READ_AGAIN) for a in actions)
    return _write(store, writes, decided, now, rules), left


def _write(
    store: Store, writes: list[BurstWrite], decided: list[tuple[Incoming, State, list[Action]]],
    now: datetime, rules: Rules,
) -> list[tuple[int, Outcome]]:  # fmt: skip
    """Write the pass's decisions at once, then each message's consent actions in order."""
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
    message: Incoming, sender: _Sender, found: CodeRules | None,
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
        optins=dict(sender.optins),
        replies_in_window=sender.replies,
        recent_texts=sender.facts.texts_before(message.id),
        loop_marked=sender.loop_marked,
        own_number=rules.own_number is not None and message.sender == rules.own_number,
        policy=None if found is None else found.policy,
        poll=None if found is None else found.poll,
        pending=waiting,
    )
