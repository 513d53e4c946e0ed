"""Router rules, one by one: pure function in, actions out."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from smsd.numbers import SenderKind
from smsd.router import (
    ALL,
    HELP_WORDS,
    START_WORDS,
    STOP_WORDS,
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
    words,
)
from store import RESERVED_KEYWORDS, Code, Person

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
RULES = Rules(gateway_name="Textline", contact="help@example.org", own_number="+447700900000")
PERSON = Person(1, "+447700900123", "ABC234", NOW)
CODE = Code(
    id=7,
    business_id=3,
    business_name="Pizza Co",
    keyword="PIZZA",
    reply="{business}: hot pizza for {user_code} (code {code})",
    description=None,
    paused=False,
    starts_at=None,
    ends_at=None,
    created_at=NOW,
    aliases=("PIE",),
)


def msg(
    text: str | None, kind: SenderKind = "international", sender: str = "+447700900123"
) -> Message:
    """An incoming message at NOW."""
    return Message(sender, kind, text, NOW, 1)


def known(**kw: object) -> State:
    """State for a known person, with overrides."""
    return replace(State(person=PERSON), **kw)  # type: ignore[arg-type]


def replies(actions: list[Action]) -> list[Reply]:
    """The Reply actions, in order."""
    return [a for a in actions if isinstance(a, Reply)]


def test_first_contact_creates_person_and_sends_code_first() -> None:
    """A new number gets CreatePerson and the user-code reply before the answer."""
    actions = route(msg("PIZZA"), State(code=CODE), NOW, RULES)
    assert isinstance(actions[0], CreatePerson)
    kinds = [r.kind for r in replies(actions)]
    assert kinds == ["user_code", "reply"]
    assert "{user_code}" in replies(actions)[0].template


def test_known_person_gets_no_code_again() -> None:
    """A known person is never sent their user code again."""
    actions = route(msg("PIZZA"), known(code=CODE, optins={3: True}), NOW, RULES)
    assert not any(isinstance(a, CreatePerson) for a in actions)
    assert [r.kind for r in replies(actions)] == ["reply"]


def test_code_match_records_request_optin_and_fills_placeholders() -> None:
    """A code records the request, opts in, and replies with business and code filled."""
    actions = route(msg("pizza"), known(code=CODE), NOW, RULES)
    assert RecordRequest(7, 3) in actions
    assert OptIn(3, "PIZZA") in actions
    assert replies(actions)[-1] == Reply(
        "Pizza Co: hot pizza for {user_code} (code PIZZA)", "reply", 3
    )


def test_already_opted_in_no_new_optin() -> None:
    """An opted-in person texting the code again gets no second opt-in event."""
    actions = route(msg("PIZZA"), known(code=CODE, optins={3: True}), NOW, RULES)
    assert not any(isinstance(a, OptIn) for a in actions)
    assert RecordRequest(7, 3) in actions


def test_code_after_opt_out_is_fresh_optin() -> None:
    """Texting a code after STOP is an explicit request: answered and opted in again."""
    actions = route(msg("PIZZA"), known(code=CODE, optins={3: False}), NOW, RULES)
    assert OptIn(3, "PIZZA") in actions and replies(actions)


@pytest.mark.parametrize("text", ["  Pizza!", "#pizza please", "PIE", "pie.", "\tPIZZA\n"])
def test_matching_first_word_case_punctuation_alias(text: str) -> None:
    """The first word matches case-insensitively, trimmed, including aliases."""
    assert lookup_word(text) in {"PIZZA", "PIE"}
    assert RecordRequest(7, 3) in route(msg(text), known(code=CODE), NOW, RULES)


def test_code_in_second_word_does_not_match() -> None:
    """Only the first word is a keyword: 'I want pizza' is unknown."""
    actions = route(msg("I want pizza"), known(code=None), NOW, RULES)
    assert [r.kind for r in replies(actions)] == ["help"]
    assert not any(isinstance(a, RecordRequest) for a in actions)


@pytest.mark.parametrize(
    "code",
    [
        replace(CODE, paused=True),
        replace(CODE, starts_at=NOW + timedelta(days=1)),
        replace(CODE, ends_at=NOW),
    ],
)
def test_inactive_code_treated_as_unknown(code: Code) -> None:
    """Paused or out-of-dates codes get the unknown reply and record nothing."""
    actions = route(msg("PIZZA"), known(code=code), NOW, RULES)
    assert not any(isinstance(a, RecordRequest | OptIn) for a in actions)
    assert replies(actions)[0].template.startswith("Textline: we don't know")


@pytest.mark.parametrize("word", sorted(STOP_WORDS))
def test_single_stop_word_opts_out_of_all(word: str) -> None:
    """Each STOP word alone opts out of every business with one confirmation."""
    actions = route(msg(word.lower()), known(), NOW, RULES)
    assert OptOut(ALL, word) in actions
    (confirm,) = replies(actions)
    assert confirm.kind == "confirm" and "START" in confirm.template


def test_stop_code_opts_out_of_that_business_only() -> None:
    """STOP <CODE> opts out of the code's business and names it."""
    actions = route(msg("STOP pizza"), known(code=CODE), NOW, RULES)
    assert OptOut((3,), "STOP PIZZA") in actions
    assert "Pizza Co" in replies(actions)[0].template


def test_stop_with_non_code_word_stops_all() -> None:
    """'STOP please' is still a full opt-out (the safe reading)."""
    assert OptOut(ALL, "STOP") in route(msg("stop please"), known(), NOW, RULES)


def test_stop_from_unknown_number_confirms_without_person() -> None:
    """STOP from a new number: confirmation only, no person or code sent."""
    actions = route(msg("STOP"), State(), NOW, RULES)
    assert [r.kind for r in replies(actions)] == ["confirm"]
    assert not any(isinstance(a, CreatePerson | OptOut) for a in actions)


def test_stop_confirmation_sent_over_rate_limit() -> None:
    """The STOP confirmation is sent even when the number is over its reply limit."""
    actions = route(msg("STOP"), known(replies_in_window=99), NOW, RULES)
    assert replies(actions)


@pytest.mark.parametrize("word", sorted(START_WORDS))
def test_start_words_opt_back_in(word: str) -> None:
    """START/YES/UNSTOP opt back in where the person had opted out, with a confirmation."""
    actions = route(msg(word), known(optins={3: False}), NOW, RULES)
    assert OptIn(ALL, word) in actions
    assert [r.kind for r in replies(actions)] == ["confirm"]


@pytest.mark.parametrize("word", sorted(HELP_WORDS))
def test_help_words_send_help_text(word: str) -> None:
    """HELP and INFO answer with name, contact, rates notice and how to stop."""
    (reply,) = replies(route(msg(word), known(), NOW, RULES))
    for part in ("Textline", "help@example.org", "Msg & data rates may apply", "STOP"):
        assert part in reply.template


def test_router_words_are_reserved_in_store() -> None:
    """Every word the router answers itself is reserved against business codes."""
    assert STOP_WORDS | START_WORDS | HELP_WORDS <= RESERVED_KEYWORDS


@pytest.mark.parametrize(
    ("sender", "kind", "reason"),
    [
        ("VODAFONE", "alphanumeric", "alphanumeric_sender"),
        ("84444", "shortcode", "shortcode_sender"),
    ],
)
def test_never_reply_to_service_senders(sender: str, kind: SenderKind, reason: str) -> None:
    """Alphanumeric and short-code senders are ignored with a reason."""
    assert route(msg("PIZZA", kind, sender), State(code=CODE), NOW, RULES) == [Ignore(reason)]


def test_never_reply_to_own_number() -> None:
    """Our own number is ignored (no self-conversation)."""
    actions = route(msg("PIZZA"), State(code=CODE, own_number=True), NOW, RULES)
    assert actions == [Ignore("own_number")]


def test_rate_limit_records_but_sends_nothing() -> None:
    """Over the hourly reply limit the request is recorded without a reply."""
    actions = route(msg("PIZZA"), known(code=CODE, replies_in_window=10), NOW, RULES)
    assert RecordRequest(7, 3) in actions and replies(actions) == []
    under = route(msg("PIZZA"), known(code=CODE, replies_in_window=9), NOW, RULES)
    assert replies(under)


def test_identical_texts_mark_loop_once() -> None:
    """The third identical text in the window is a loop: MarkLoop once, then just Ignore."""
    earlier = ("Thanks for your message!", "thanks for your  message!")
    first = route(msg("Thanks for your message!"), known(recent_texts=earlier), NOW, RULES)
    assert first == [MarkLoop(), Ignore("loop")]
    again = route(
        msg("Thanks for your message!"),
        known(recent_texts=earlier, loop_marked=True),
        NOW,
        RULES,
    )
    assert again == [Ignore("loop")]


def test_two_identical_texts_are_not_a_loop() -> None:
    """Below the threshold the message is answered normally."""
    actions = route(msg("PIZZA"), known(code=CODE, recent_texts=("PIZZA",)), NOW, RULES)
    assert RecordRequest(7, 3) in actions


def test_echo_of_our_own_reply_is_a_loop() -> None:
    """A text that looks like one of our replies is a machine answering us."""
    echo = "Textline: we don't know that code. Text HELP for help."
    assert MarkLoop() in route(msg(echo), known(), NOW, RULES)


@pytest.mark.parametrize("text", ["", "   \n\t", "😀🎉", "!!! ..."])
def test_no_word_is_ignored(text: str) -> None:
    """Empty, whitespace-only, emoji-only and punctuation-only texts are ignored."""
    assert route(msg(text), State(), NOW, RULES) == [Ignore("no_keyword")]


def test_binary_message_ignored() -> None:
    """8-bit data (text None) is stored and ignored."""
    assert route(msg(None), known(), NOW, RULES) == [Ignore("binary")]


def test_long_text_routes_on_first_word() -> None:
    """A 1,600-character text is routed by its first word like any other."""
    text = "pizza " + "x" * 1594
    assert len(text) == 1600
    assert RecordRequest(7, 3) in route(msg(text), known(code=CODE), NOW, RULES)


def test_unknown_word_gets_short_help_reply() -> None:
    """An unknown word from a known person gets one short help reply."""
    (reply,) = replies(route(msg("burger"), known(), NOW, RULES))
    assert reply.kind == "help" and "HELP" in reply.template


def test_words_strip_punctuation_and_emoji() -> None:
    """words() upper-cases and trims punctuation; emoji tokens vanish."""
    assert words(" ¡Hola! 😀 pizza, ") == ["HOLA", "PIZZA"]


def test_route_is_deterministic() -> None:
    """The same inputs give the same actions (no clock, no randomness)."""
    state = State(code=CODE)
    assert route(msg("PIZZA"), state, NOW, RULES) == route(msg("PIZZA"), state, NOW, RULES)
