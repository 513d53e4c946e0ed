"""Router rules of issue 16: folding, opt-out wording, compliant texts, double opt-in, polls."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from smsd.router import (
    ALL,
    Action,
    AwaitConfirm,
    ConfirmPending,
    CreatePerson,
    GatewayConsent,
    Message,
    OptIn,
    OptOut,
    RecordRequest,
    Reply,
    Rules,
    State,
    Vote,
    route,
)
from smsd.settings import Vocabulary
from store import Code, Person
from store.rules_models import BusinessPolicy, Poll

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
RULES = Rules(gateway_name="Textline", contact="help@example.org")
PERSON = Person(1, "+447700900123", "ABC234", NOW)
CODE = Code(7, 3, "Pizza Co", "PIZZA", "Hot pizza", None, False, None, None, NOW)
CAFE = Code(8, 4, "Cafe Bar", "CAFE", "Coffee", None, False, None, None, NOW)
POLL = Poll(5, 9, 3, "VOTE", ("A", "B", "C"), NOW)
VOTE = Code(9, 3, "Pizza Co", "VOTE", "Thanks", None, False, None, None, NOW)
DOUBLE = BusinessPolicy(3, double_opt_in=True)


def msg(text: str) -> Message:
    """An incoming message from PERSON's number at NOW."""
    return Message(PERSON.phone or "", "international", text, NOW, 1)


def known(**kw: object) -> State:
    """State for a known person, with overrides."""
    return replace(State(person=PERSON), **kw)  # type: ignore[arg-type]


def replies(actions: list[Action]) -> list[Reply]:
    """The Reply actions, in order."""
    return [a for a in actions if isinstance(a, Reply)]


@pytest.mark.parametrize(
    ("text", "code"), [("ＰＩＺＺＡ", CODE), ("pİzza", CODE), ("PİZZA", CODE), ("Café!", CAFE)]
)
def test_folded_keywords_match(text: str, code: Code) -> None:
    """Full-width, Turkish dotted I and accented words match their codes (NFKC, folding)."""
    actions = route(msg(text), known(code=code, optins={code.business_id: True}), NOW, RULES)
    assert RecordRequest(code.id, code.business_id) in actions


@pytest.mark.parametrize(
    "text",
    ["stop texting me", "Please unsubscribe", "unsubscribe please", "remove me", "No more!",
     "don't text me", "I want to opt out", "ARRET", "Arrêt", "baja", "STOPP", "Halt", "ＳＴＯＰ",
     "opt-out", "No más por favor", "please stop", "Ok STOP now"],
)  # fmt: skip
def test_optout_wording_stops_everything_with_one_confirmation(text: str) -> None:
    """Opt-out phrases and other languages' words opt out of everything, one confirmation."""
    actions = route(msg(text), known(), NOW, RULES)
    assert any(isinstance(a, OptOut) and a.business_ids == ALL for a in actions)
    assert any(isinstance(a, GatewayConsent) and a.kind == "out" for a in actions)
    (confirm,) = replies(actions)
    assert confirm.kind == "confirm" and "START" in confirm.template


@pytest.mark.parametrize(
    "text",
    ["I would like no more than two pizzas with extra cheese and olives please", "PIZZA",
     "hello there", "stopwatch"],
)  # fmt: skip
def test_ordinary_texts_are_not_optouts(text: str) -> None:
    """Long messages are not scanned for phrases; codes and other words are not opt-outs."""
    actions = route(msg(text), known(code=CODE), NOW, RULES)
    assert not any(isinstance(a, OptOut | GatewayConsent) for a in actions)


def test_optout_beats_a_code_and_says_how_to_come_back() -> None:
    """A false positive costs one confirmation that says how to opt back in."""
    rules = replace(RULES, vocabulary=Vocabulary(stop_words=frozenset({"STOP", "PIZZA"})))
    actions = route(msg("pizza"), known(code=CODE), NOW, rules)
    assert not any(isinstance(a, RecordRequest) for a in actions)
    assert "START" in replies(actions)[0].template


def test_vocabulary_is_configurable() -> None:
    """Extra stop words and phrases from the configuration are honoured."""
    vocab = Vocabulary(stop_words=frozenset({"FINI"}), optout_phrases=("go away",))
    rules = replace(RULES, vocabulary=vocab)
    for text in ("fini", "please go away"):
        assert any(isinstance(a, OptOut) for a in route(msg(text), known(), NOW, rules))
    assert not any(isinstance(a, OptOut) for a in route(msg("STOPP"), known(), NOW, rules))


def test_stop_from_a_new_number_is_kept_by_number() -> None:
    """STOP from a number we never answered: no person, but the opt-out is recorded."""
    actions = route(msg("stop texting me"), State(), NOW, RULES)
    assert GatewayConsent("out", "STOP") in actions
    assert not any(isinstance(a, CreatePerson) for a in actions)


def test_first_contact_text_is_compliant() -> None:
    """First contact names the gateway, how to stop, frequency and the rates notice."""
    first = replies(route(msg("hello"), State(), NOW, RULES))[0]
    assert first.kind == "user_code"
    for part in ("Textline", "STOP", "Msg frequency varies", "Msg & data rates may apply"):
        assert part in first.template
    assert "{user_code}" in first.template


def test_first_contact_optin_is_one_text_with_business() -> None:
    """A first text that opts in gets one text that is both welcome and opt-in confirmation."""
    actions = route(msg("PIZZA"), State(code=CODE), NOW, RULES)
    assert [r.kind for r in replies(actions)] == ["user_code", "reply"]
    assert "Pizza Co" in replies(actions)[0].template and OptIn(3, "PIZZA") in actions


def test_optin_confirmation_uses_business_frequency() -> None:
    """A business's stated frequency replaces the default in its opt-in confirmation."""
    policy = BusinessPolicy(3, frequency="Up to 4 msgs/month")
    confirm, reply = replies(route(msg("PIZZA"), known(code=CODE, policy=policy), NOW, RULES))
    assert "Up to 4 msgs/month" in confirm.template and "Pizza Co" in confirm.template
    assert "STOP PIZZA" in confirm.template and "Msg & data rates may apply" in confirm.template
    assert reply.template == "Hot pizza"


def test_help_has_frequency_and_missing_contact_vanishes() -> None:
    """HELP states frequency; without a contact there is no dangling "Help: ."."""
    (text,) = replies(route(msg("HELP"), known(), NOW, replace(RULES, contact="")))
    assert "Msg frequency varies" in text.template and "Help:" not in text.template
    for template in (t.template for t in replies(route(msg("STOP"), known(), NOW, Rules()))):
        assert "Help:" not in template and not template.endswith(" ")


def test_stop_confirmation_has_no_marketing() -> None:
    """The opt-out confirmation is the gateway's text only, never a business reply."""
    (confirm,) = replies(route(msg("STOP PIZZA"), known(code=CODE), NOW, RULES))
    assert confirm.kind == "confirm" and "Hot pizza" not in confirm.template


def test_double_optin_asks_for_yes_and_records_nothing_else() -> None:
    """A double opt-in business: the code asks for YES; no opt-in, request or reply yet."""
    actions = route(msg("PIZZA"), known(code=CODE, policy=DOUBLE), NOW, RULES)
    assert actions[0] == AwaitConfirm(7, 3, "PIZZA")
    assert not any(isinstance(a, OptIn | RecordRequest) for a in actions)
    (ask,) = replies(actions)
    assert "YES" in ask.template and ask.kind == "confirm"


def test_double_optin_first_contact_gets_code_and_question() -> None:
    """First contact with a double opt-in business: user code text, then the YES question."""
    actions = route(msg("PIZZA"), State(code=CODE, policy=DOUBLE), NOW, RULES)
    assert isinstance(actions[0], CreatePerson)
    assert [r.kind for r in replies(actions)] == ["user_code", "confirm"]


def test_yes_confirms_pending_and_sends_the_reply() -> None:
    """YES with a pending double opt-in: confirmed, opted in, confirmation and code reply."""
    actions = route(msg("yes"), known(pending=(CODE,)), NOW, RULES)
    assert ConfirmPending(3) in actions and OptIn(3, "YES") in actions
    assert RecordRequest(7, 3) in actions
    assert [r.template for r in replies(actions)][-1] == "Hot pizza"
    assert not any(isinstance(a, GatewayConsent) for a in actions)


def test_yes_with_pending_and_other_optouts_names_them() -> None:
    """YES with something pending opts back in elsewhere by name, never twice for one business."""
    actions = route(msg("YES"), known(pending=(CODE,), optins={3: False, 4: False}), NOW, RULES)
    optins = [a for a in actions if isinstance(a, OptIn)]
    assert optins == [OptIn(4, "YES"), OptIn(3, "YES")]


def test_vote_counts_and_does_not_opt_in() -> None:
    """VOTE B records a vote and a request, answers, and is not a marketing opt-in."""
    actions = route(msg("vote b"), known(code=VOTE, poll=POLL), NOW, RULES)
    assert Vote(5, "B") in actions and RecordRequest(9, 3) in actions
    assert not any(isinstance(a, OptIn) for a in actions)
    assert "B" in replies(actions)[0].template


@pytest.mark.parametrize("text", ["VOTE", "VOTE Z"])
def test_vote_without_valid_option_lists_options(text: str) -> None:
    """A vote with no or an unknown option is answered with the options, nothing counted."""
    actions = route(msg(text), known(code=VOTE, poll=POLL), NOW, RULES)
    assert not any(isinstance(a, Vote) for a in actions)
    assert "A, B, C" in replies(actions)[0].template


def test_vote_after_closing_time_is_refused() -> None:
    """After the poll closes, a vote is answered "closed" and not counted."""
    closed = replace(POLL, closes_at=NOW - timedelta(minutes=1))
    actions = route(msg("VOTE A"), known(code=VOTE, poll=closed), NOW, RULES)
    assert not any(isinstance(a, Vote) for a in actions)
    assert "closed" in replies(actions)[0].template
