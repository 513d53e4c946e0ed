"""Writing the router's consent actions that `Store.apply` does not cover.

`Store.apply` writes people, requests, per-business opt events and replies; this writes, in
the same transaction, double opt-ins waiting for YES (`AwaitConfirm`) and their confirmation
(`ConfirmPending`), votes (`Vote`) and STOP/START that named no business (`GatewayConsent`).
It also loads what the router needs to know for them (`rules_state`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from smsd.router import Action, AwaitConfirm, ConfirmPending, GatewayConsent, Vote
from store import Code, Incoming, Person, Store
from store.rules_models import BusinessPolicy, Poll

__all__ = ["RulesState", "apply_consent", "rules_state"]

RulesState = tuple[BusinessPolicy | None, Poll | None, tuple[Code, ...]]


def rules_state(
    store: Store, code: Code | None, person: Person | None, *, confirming: bool
) -> RulesState:
    """The code's business policy and poll, and (for a YES) the codes awaiting confirmation.

    One statement when a code was named, one more (plus one per pending code) for a YES.
    """
    policy, poll = store.consent.code_rules(code.id) if code is not None else (None, None)
    pending: tuple[Code, ...] = ()
    if confirming and person is not None:
        found = (
            store.directory.find_code(word) for word in store.consent.pending_keywords(person.id)
        )
        pending = tuple(c for c in found if c is not None)
    return policy, poll, pending


def apply_consent(
    store: Store,
    message: Incoming,
    person: Person | None,
    actions: Sequence[Action],
    now: datetime,
) -> None:
    """Write the consent actions of one routed message (inside the caller's transaction)."""
    for action in actions:
        if isinstance(action, GatewayConsent):
            store.consent.record_gateway(
                message.sender, action.kind, now, person_id=None if person is None else person.id,
                keyword=action.keyword, channel="sms", incoming_id=message.id,
            )  # fmt: skip
        elif person is None:
            continue
        elif isinstance(action, AwaitConfirm):
            store.consent.add_pending(
                person.id, action.business_id, action.code_id, action.keyword, message.id, now
            )
        elif isinstance(action, ConfirmPending):
            store.consent.confirm_pending(person.id, action.business_id, message.id, now)
        elif isinstance(action, Vote):
            store.polls.vote(
                action.poll_id, person.id, action.option, now=now, incoming_id=message.id
            )
