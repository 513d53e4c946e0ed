"""Glue between the store and the router: load state, route, write the result at once.

The daemon calls `process_incoming` after `Store.record_incoming`, `process_expired_partials`
from its housekeeping tick, and `process_unrouted` at start (messages recorded before a crash
but not yet routed). Loading, routing and writing share one store transaction, so two threads
handling messages from the same new number cannot both send a user code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast, get_args

import structlog

from smsd.numbers import SenderKind
from smsd.router import (
    ALL,
    Action,
    CreatePerson,
    Ignore,
    MarkLoop,
    Message,
    OptIn,
    OptOut,
    RecordRequest,
    Reply,
    Rules,
    State,
    lookup_word,
    route,
)
from store import Incoming, OptinDraft, Plan, ReplyDraft, RequestDraft, Store

__all__ = [
    "Processed",
    "load_state",
    "plan_from",
    "process_expired_partials",
    "process_incoming",
    "process_unrouted",
]

log = structlog.get_logger(__name__)

_RATE_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class Processed:
    """The outcome for one message: the router's actions and the outgoing rows queued."""

    incoming_id: int
    actions: tuple[Action, ...]
    outgoing_ids: tuple[int, ...]


def load_state(store: Store, message: Incoming, now: datetime, rules: Rules) -> State:
    """Everything the router needs to know about `message`'s sender, read from the store.

    Three statements: the person with their opt-in status, the code, the sender's activity.
    """
    person, optins = store.person_and_optins(message.sender)
    word = lookup_word(message.text)
    activity = store.sender_activity(
        message.sender,
        replies_since=now - _RATE_WINDOW,
        texts_since=now - rules.loop_window,
        before_id=message.id,
    )
    return State(
        person=person,
        code=store.find_code(word) if word else None,
        optins=optins,
        replies_in_window=activity.replies,
        recent_texts=activity.recent_texts,
        loop_marked=activity.loop_marked,
        own_number=rules.own_number is not None and message.sender == rules.own_number,
    )


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


def _router_message(message: Incoming) -> Message:
    kinds = get_args(SenderKind)
    # An unexpected sender type is treated as one we never answer.
    kind = message.sender_type if message.sender_type in kinds else "alphanumeric"
    return Message(
        message.sender, cast(SenderKind, kind), message.text, message.received_at, message.id
    )


def process_incoming(
    store: Store, incoming_id: int, now: datetime, rules: Rules
) -> Processed | None:
    """Route one stored message and write the outcome; None if it is not in state 'new'."""
    with store.transaction():
        message = store.get_incoming(incoming_id)
        if message.state != "new":
            return None
        state = load_state(store, message, now, rules)
        actions = route(_router_message(message), state, now, rules)
        applied = store.apply(incoming_id, plan_from(actions), now, loaded=(message, state.person))
    names = [type(a).__name__ for a in actions]
    if any(isinstance(a, MarkLoop) for a in actions):
        log.warning("loop_detected", incoming_id=incoming_id, sender_type=message.sender_type)
    if state.replies_in_window >= rules.replies_per_hour and not applied.outgoing_ids:
        log.info("reply_rate_limited", incoming_id=incoming_id)
    log.info(
        "message_routed", incoming_id=incoming_id, actions=names, queued=len(applied.outgoing_ids)
    )
    return Processed(incoming_id, tuple(actions), applied.outgoing_ids)


def process_expired_partials(
    store: Store, now: datetime, rules: Rules, timeout: timedelta
) -> list[Processed]:
    """Reassemble multipart messages whose parts stopped arriving, and route them as they are."""
    done = (process_incoming(store, i, now, rules) for i in store.expired_partials(now, timeout))
    return [p for p in done if p is not None]


def process_unrouted(store: Store, now: datetime, rules: Rules) -> list[Processed]:
    """Route every message recorded but not routed yet (after a crash), oldest first."""
    done = (process_incoming(store, i, now, rules) for i in store.unrouted())
    return [p for p in done if p is not None]
