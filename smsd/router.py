"""The router: what to do with one incoming message. Pure: no I/O, no clock, no randomness.

`route(message, state, now, rules) -> list[Action]`. The pipeline loads `State` from the store
and writes the actions back in one transaction. Words are folded first (NFKC, accents
removed, case folded: `smsd.keywords`). Decisions, in order:

1. Never answer alphanumeric senders, short codes or our own number: `Ignore(reason)`.
2. Binary (8-bit, text None): `Ignore("binary")`, the message stays stored.
3. Auto-reply loops: the same text `loop_threshold` times within the window, or a text that
   looks like one of our own replies -> `MarkLoop()` (first time only) and `Ignore("loop")`.
4. No word at all (empty, whitespace, emoji or punctuation only): `Ignore("no_keyword")`.
5. Opt-out: a STOP word first (any language in the vocabulary), or a short text with an
   opt-out phrase ("stop texting me") -> every business; `STOP <CODE>` -> that code's business.
   One confirmation, always (not subscribed, over the rate limit): no marketing in it.
6. START/YES/UNSTOP: confirm pending double opt-ins (the code's reply follows), and opt back in
   where they had opted out; HELP/INFO -> the help text (frequency, rates, contact, STOP).
7. A code (keyword or alias, first word): a poll takes a vote (`VOTE B`, once per person, a new
   vote replaces the old); otherwise record the request, and if not opted in yet, opt in with
   a confirmation before the reply, or, for a double opt-in business, ask for YES and send
   nothing else. A paused code or one outside its dates is treated as unknown.
8. Anything else: the short "unknown code" help reply.

First contact (no person yet, any answered message except an opt-out): `CreatePerson()` and
the first-contact text (user code, who we are, how to stop, frequency, rates); when the same
message opts in, that text is the opt-in confirmation too. Over `replies_per_hour` replies in
the last hour: everything is recorded, no reply is queued (an opt-out confirmation excepted).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Literal

from smsd.keywords import is_optout_phrase, is_stop, words
from smsd.numbers import SenderKind
from smsd.settings import (
    DEFAULT_HELP_WORDS,
    DEFAULT_START_WORDS,
    DEFAULT_STOP_WORDS,
    Rules,
    Vocabulary,
)
from smsd.templates import fill
from store.models import Code, OutgoingKind, Person
from store.rules_models import BusinessPolicy, Poll

__all__ = [
    "ALL",
    "HELP_WORDS",
    "START_WORDS",
    "STOP_WORDS",
    "Action",
    "AwaitConfirm",
    "ConfirmPending",
    "CreatePerson",
    "GatewayConsent",
    "Ignore",
    "MarkLoop",
    "Message",
    "OptIn",
    "OptOut",
    "RecordRequest",
    "Reply",
    "Rules",
    "State",
    "Vote",
    "lookup_word",
    "route",
    "words",
]

STOP_WORDS = DEFAULT_STOP_WORDS
START_WORDS = DEFAULT_START_WORDS
HELP_WORDS = DEFAULT_HELP_WORDS

#: `OptOut.business_ids` / `OptIn.business_id` value meaning every relevant business.
ALL: Literal["ALL"] = "ALL"


@dataclass(frozen=True)
class Message:
    """The incoming message as the router sees it."""

    sender: str
    sender_kind: SenderKind
    text: str | None
    at: datetime
    incoming_id: int


@dataclass(frozen=True)
class State:
    """What the store knows that matters for this message."""

    person: Person | None = None
    code: Code | None = None  # the code named by `lookup_word(text)`, if any
    optins: dict[int, bool] = field(default_factory=dict)  # business_id -> opted in
    replies_in_window: int = 0  # replies queued to this number in the last hour
    recent_texts: tuple[str, ...] = ()  # earlier texts from this number within the loop window
    loop_marked: bool = False  # a loop was already flagged within the window
    own_number: bool = False
    policy: BusinessPolicy | None = None  # the code's business's consent policy
    poll: Poll | None = None  # the poll the code belongs to, if any
    pending: tuple[Code, ...] = ()  # codes awaiting this person's YES (double opt-in)


@dataclass(frozen=True)
class CreatePerson:
    """Create the sender's person record (and draw their user code)."""


@dataclass(frozen=True)
class Reply:
    """Queue a reply; `{user_code}` is left in `template` for the store to fill."""

    template: str
    kind: OutgoingKind
    business_id: int | None = None


@dataclass(frozen=True)
class RecordRequest:
    """Record that the sender asked for a code."""

    code_id: int
    business_id: int


@dataclass(frozen=True)
class OptIn:
    """Record an opt-in to one business, or back into every business left (`ALL`)."""

    business_id: int | Literal["ALL"]
    keyword: str


@dataclass(frozen=True)
class OptOut:
    """Record an opt-out from the given businesses or from every one (`ALL`)."""

    business_ids: tuple[int, ...] | Literal["ALL"]
    keyword: str


@dataclass(frozen=True)
class AwaitConfirm:
    """Double opt-in: the person texted `code_id`; record it as pending until they say YES."""

    code_id: int
    business_id: int
    keyword: str


@dataclass(frozen=True)
class ConfirmPending:
    """The person said YES: their pending double opt-in with `business_id` is confirmed."""

    business_id: int


@dataclass(frozen=True)
class GatewayConsent:
    """A STOP or START that named no business: kept by number, even with no person yet."""

    kind: Literal["in", "out"]
    keyword: str


@dataclass(frozen=True)
class Vote:
    """Count (or replace) the person's vote in `poll_id`."""

    poll_id: int
    option: str


@dataclass(frozen=True)
class Ignore:
    """Store the message as 'ignored' with `reason`; nothing is sent."""

    reason: str


@dataclass(frozen=True)
class MarkLoop:
    """Flag the sender as an auto-reply loop (emitted once per loop)."""


Action = (
    CreatePerson
    | Reply
    | RecordRequest
    | OptIn
    | OptOut
    | AwaitConfirm
    | ConfirmPending
    | GatewayConsent
    | Vote
    | Ignore
    | MarkLoop
)


def lookup_word(text: str | None, vocabulary: Vocabulary | None = None) -> str | None:
    """The word to look a code up by: the first, or the second after a STOP word."""
    vocab = vocabulary or Vocabulary()
    found = words(text or "")
    if len(found) > 1 and is_stop(vocab, found[0]):
        return found[1]
    return found[0] if found else None


def _values(rules: Rules, policy: BusinessPolicy | None = None, **more: str) -> dict[str, str]:
    frequency = policy.frequency if policy is not None and policy.frequency else rules.frequency
    return {"gateway": rules.gateway_name, "contact": rules.contact, "frequency": frequency, **more}


def _gateway_text(
    template: str, rules: Rules, policy: BusinessPolicy | None = None, **more: str
) -> str:
    return _filled(template, tuple(_values(rules, policy, **more).items()), optional=True)


@lru_cache(maxsize=1024)
def _filled(template: str, values: tuple[tuple[str, str], ...], *, optional: bool) -> str:
    """`fill`, once per (template, values): a text depends only on the rules and the code,
    and a burst fills the same few again and again (regex passes each time otherwise)."""
    return fill(template, dict(values), optional=optional)


@lru_cache(maxsize=256)  # the gateway's name and a sender's recent texts, once per message
def _normal(text: str) -> str:
    return " ".join(text.casefold().split())


def _is_loop(text: str, state: State, rules: Rules) -> bool:
    norm = _normal(text)
    if not norm:
        return False
    same = sum(1 for earlier in state.recent_texts if _normal(earlier) == norm)
    if same + 1 >= rules.loop_threshold:
        return True
    # Our own system texts all start "<gateway>:"; an echo of one is a machine talking.
    return (
        norm.startswith(_normal(rules.gateway_name) + ":") or "msg & data rates may apply" in norm
    )


def _matches(code: Code | None, word: str) -> Code | None:
    if code is None or word not in (code.keyword, *code.aliases):
        return None
    return code


def route(message: Message, state: State, now: datetime, rules: Rules) -> list[Action]:
    """Decide what to do with `message`; see the module docstring for the rules."""
    if message.sender_kind in ("alphanumeric", "shortcode"):
        return [Ignore(f"{message.sender_kind}_sender")]
    if state.own_number:
        return [Ignore("own_number")]
    if message.text is None:
        return [Ignore("binary")]
    if _is_loop(message.text, state, rules):
        return [Ignore("loop")] if state.loop_marked else [MarkLoop(), Ignore("loop")]
    found = words(message.text)
    if not found:
        return [Ignore("no_keyword")]
    vocab = rules.vocabulary
    if is_stop(vocab, found[0]):
        return _stop(found, state, rules)
    if is_optout_phrase(vocab, message.text):
        return _stop(["STOP"], state, rules)
    actions = _answer(found, state, now, rules)
    if state.person is None:
        actions = [CreatePerson(), *_first_contact(actions, state, rules)]
    if state.replies_in_window >= rules.replies_per_hour:
        actions = [a for a in actions if not isinstance(a, Reply)]
    return actions


def _first_contact(actions: list[Action], state: State, rules: Rules) -> list[Action]:
    """Put the first-contact text first; it doubles as the opt-in confirmation when there is one."""
    confirm = next((a for a in actions if isinstance(a, Reply) and a.kind == "confirm"), None)
    code = state.code
    if confirm is not None and code is not None and any(isinstance(a, OptIn) for a in actions):
        text = _gateway_text(
            rules.first_optin_text, rules, state.policy,
            business=code.business_name, code=code.keyword,
        )  # fmt: skip
        rest = [a for a in actions if a is not confirm]
        return [Reply(text, "user_code", code.business_id), *rest]
    return [Reply(_gateway_text(rules.user_code_text, rules), "user_code"), *actions]


def _stop(found: list[str], state: State, rules: Rules) -> list[Action]:
    code = _matches(state.code, found[1]) if len(found) > 1 else None
    actions: list[Action] = []
    if code is None:
        if state.person is not None:
            actions.append(OptOut(ALL, found[0]))
        actions.append(GatewayConsent("out", found[0]))
        actions.append(Reply(_gateway_text(rules.stop_all_text, rules), "confirm"))
        return actions
    if state.person is not None:
        actions.append(OptOut((code.business_id,), f"{found[0]} {code.keyword}"))
    text = _gateway_text(rules.stop_one_text, rules, business=code.business_name, code=code.keyword)
    actions.append(Reply(text, "confirm", code.business_id))
    return actions


def _answer(found: list[str], state: State, now: datetime, rules: Rules) -> list[Action]:
    word, vocab = found[0], rules.vocabulary
    if word in vocab.start_words:
        return _start(word, state, rules)
    if word in vocab.help_words:
        return [Reply(_gateway_text(rules.help_text, rules), "help")]
    code = _matches(state.code, word)
    if code is None or not code.is_active(now):
        return [Reply(_gateway_text(rules.unknown_text, rules), "help")]
    if state.poll is not None and state.poll.code_id == code.id:
        return _vote(found, code, state.poll, now, rules)
    if state.optins.get(code.business_id) is True:
        return [RecordRequest(code.id, code.business_id), _code_reply(code, rules)]
    if state.policy is not None and state.policy.double_opt_in:
        text = _gateway_text(
            rules.confirm_request_text, rules, state.policy,
            business=code.business_name, code=code.keyword,
        )  # fmt: skip
        return [
            AwaitConfirm(code.id, code.business_id, word),
            Reply(text, "confirm", code.business_id),
        ]
    return [
        RecordRequest(code.id, code.business_id),
        OptIn(code.business_id, code.keyword),
        _optin_confirmation(code, state.policy, rules),
        _code_reply(code, rules),
    ]


def _code_reply(code: Code, rules: Rules) -> Reply:
    values = _values(rules, business=code.business_name, code=code.keyword)
    text = _filled(code.reply, tuple(values.items()), optional=False)
    return Reply(text, "reply", code.business_id)


def _optin_confirmation(code: Code, policy: BusinessPolicy | None, rules: Rules) -> Reply:
    text = _gateway_text(
        rules.optin_text, rules, policy, business=code.business_name, code=code.keyword
    )
    return Reply(text, "confirm", code.business_id)


def _start(word: str, state: State, rules: Rules) -> list[Action]:
    """YES/START: confirm pending double opt-ins, and opt back in where they had opted out."""
    actions: list[Action] = []
    pending = {code.business_id for code in state.pending}
    left = [b for b, is_in in sorted(state.optins.items()) if not is_in and b not in pending]
    if state.person is not None and left:
        # With something pending, name the others: ALL would also write the pending one.
        actions += [OptIn(b, word) for b in left] if pending else [OptIn(ALL, word)]
    for code in state.pending:
        actions += [
            ConfirmPending(code.business_id),
            RecordRequest(code.id, code.business_id),
            OptIn(code.business_id, word),
            _optin_confirmation(code, None, rules),
            _code_reply(code, rules),
        ]
    if not pending:
        actions.append(GatewayConsent("in", word))
        actions.append(Reply(_gateway_text(rules.start_text, rules), "confirm"))
    return actions


def _vote(found: list[str], code: Code, poll: Poll, now: datetime, rules: Rules) -> list[Action]:
    values = _values(rules, business=code.business_name, code=code.keyword)
    if not poll.is_open(now):
        return [Reply(fill(rules.poll_closed_text, values), "reply", code.business_id)]
    option = found[1] if len(found) > 1 else None
    if option is None or option not in poll.options:
        text = fill(rules.vote_invalid_text, {**values, "options": ", ".join(poll.options)})
        return [Reply(text, "reply", code.business_id)]
    return [
        RecordRequest(code.id, code.business_id),
        Vote(poll.id, option),
        Reply(fill(rules.vote_text, {**values, "option": option}), "reply", code.business_id),
    ]
