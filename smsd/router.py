"""The router: what to do with one incoming message. Pure: no I/O, no clock, no randomness.

`route(message, state, now, rules) -> list[Action]`. The pipeline loads `State` from the store
and writes the actions back in one transaction. Decisions, in order:

1. Never answer alphanumeric senders, short codes or our own number: `Ignore(reason)`.
2. Binary (8-bit, text None): `Ignore("binary")`, the message stays stored.
3. Auto-reply loops: the same text `loop_threshold` times within the window, or a text that
   looks like one of our own replies -> `MarkLoop()` (first time only) and `Ignore("loop")`.
4. No word at all (empty, whitespace, emoji or punctuation only): `Ignore("no_keyword")`.
5. STOP words: alone (or followed by something that is not a code) -> opt out of every
   business; `STOP <CODE>` -> that code's business only. Confirmation always sent, even when
   not subscribed, and even over the rate limit (it is the last message they get from us).
6. START/YES/UNSTOP -> opt back in where they had opted out; HELP/INFO -> the help text.
7. A code (keyword or alias, first word, case-insensitive, punctuation trimmed): record the
   request, opt in unless already in (texting a code after STOP is an explicit opt-in), reply.
   A paused code or one outside its dates is treated as unknown.
8. Anything else: the short "unknown code" help reply.

First contact (no person yet, any answered message except a STOP word): `CreatePerson()` and
the user-code reply before the answer. Over `replies_per_hour` replies to this number in the
last hour: everything is recorded, no reply is queued.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from smsd.numbers import SenderKind
from smsd.settings import Rules
from store.models import Code, OutgoingKind, Person

__all__ = [
    "ALL",
    "HELP_WORDS",
    "START_WORDS",
    "STOP_WORDS",
    "Action",
    "CreatePerson",
    "Ignore",
    "MarkLoop",
    "Message",
    "OptIn",
    "OptOut",
    "RecordRequest",
    "Reply",
    "Rules",
    "State",
    "lookup_word",
    "route",
    "words",
]

STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
)
START_WORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})

#: `OptOut.business_ids` / `OptIn.business_id` value meaning every relevant business.
ALL: Literal["ALL"] = "ALL"

_EDGE_PUNCTUATION = re.compile(r"^[\W_]+|[\W_]+$")


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
class Ignore:
    """Store the message as 'ignored' with `reason`; nothing is sent."""

    reason: str


@dataclass(frozen=True)
class MarkLoop:
    """Flag the sender as an auto-reply loop (emitted once per loop)."""


Action = CreatePerson | Reply | RecordRequest | OptIn | OptOut | Ignore | MarkLoop


def words(text: str) -> list[str]:
    """Upper-case words of `text`, trimmed of punctuation; emoji-only tokens vanish."""
    trimmed = (_EDGE_PUNCTUATION.sub("", token) for token in text.split())
    return [word.upper() for word in trimmed if word]


def lookup_word(text: str | None) -> str | None:
    """The word to look a code up by: the first, or the second after a STOP word."""
    found = words(text or "")
    if len(found) > 1 and found[0] in STOP_WORDS:
        return found[1]
    return found[0] if found else None


def _fill(template: str, rules: Rules, **values: str) -> str:
    # str.replace, not str.format: business texts may contain braces of their own.
    out = template.replace("{gateway}", rules.gateway_name).replace("{contact}", rules.contact)
    for name, value in values.items():
        out = out.replace("{" + name + "}", value)
    return out


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
    if found[0] in STOP_WORDS:
        return _stop(found, state, rules)
    actions = _answer(found[0], state, now, rules)
    if state.person is None:
        actions = [CreatePerson(), Reply(_fill(rules.user_code_text, rules), "user_code"), *actions]
    if state.replies_in_window >= rules.replies_per_hour:
        actions = [a for a in actions if not isinstance(a, Reply)]
    return actions


def _stop(found: list[str], state: State, rules: Rules) -> list[Action]:
    code = _matches(state.code, found[1]) if len(found) > 1 else None
    actions: list[Action] = []
    if code is None:
        if state.person is not None:
            actions.append(OptOut(ALL, found[0]))
        actions.append(Reply(_fill(rules.stop_all_text, rules), "confirm"))
        return actions
    if state.person is not None:
        actions.append(OptOut((code.business_id,), f"{found[0]} {code.keyword}"))
    text = _fill(rules.stop_one_text, rules, business=code.business_name, code=code.keyword)
    actions.append(Reply(text, "confirm", code.business_id))
    return actions


def _answer(word: str, state: State, now: datetime, rules: Rules) -> list[Action]:
    if word in START_WORDS:
        actions: list[Action] = [] if state.person is None else [OptIn(ALL, word)]
        return [*actions, Reply(_fill(rules.start_text, rules), "confirm")]
    if word in HELP_WORDS:
        return [Reply(_fill(rules.help_text, rules), "help")]
    code = _matches(state.code, word)
    if code is None or not code.is_active(now):
        return [Reply(_fill(rules.unknown_text, rules), "help")]
    actions = [RecordRequest(code.id, code.business_id)]
    if state.optins.get(code.business_id) is not True:
        actions.append(OptIn(code.business_id, code.keyword))
    text = _fill(code.reply, rules, business=code.business_name, code=code.keyword)
    return [*actions, Reply(text, "reply", code.business_id)]
