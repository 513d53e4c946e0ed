"""The routing path's caches and shortcuts give exactly what the plain code gives."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from enum import IntEnum
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import structlog

from smsd.keywords import is_optout_phrase
from smsd.logs import configure_logging
from smsd.pipeline import Pipeline
from smsd.router import Message, Reply, Rules, State, route
from smsd.settings import Vocabulary
from store import Code, IncomingDraft, Store
from store.base import to_ts
from store.directory import new_user_code
from store.errors import InvalidInput
from store.models_people import USER_CODE_ALPHABET, USER_CODE_LENGTH
from store.pg_rows import json_rows

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
CODE = Code(7, 3, "Pizza Co", "PIZZA", "Hot pizza from {business}", None, False, None, None, NOW)


def test_to_ts_same_instant_same_text_in_any_zone() -> None:
    """Equal instants written from different zones give one UTC text."""
    texts = {to_ts(NOW.astimezone(timezone(timedelta(hours=h)))) for h in (-5, 0, 1, 9)}
    assert texts == {"2026-01-05T12:00:00.000000+00:00"}


def test_to_ts_tells_apart_equal_local_times_across_a_dst_change() -> None:
    """01:30 in London twice on 25 Oct 2026 (== as local times) are two instants, two texts."""
    first = datetime(2026, 10, 25, 1, 30, tzinfo=ZoneInfo("Europe/London"))
    second = first.replace(fold=1)
    assert first == second  # one zone: compared as local times, which is why only UTC is cached
    assert to_ts(first) == "2026-10-25T00:30:00.000000+00:00"
    assert to_ts(second) == "2026-10-25T01:30:00.000000+00:00"


def test_to_ts_refuses_naive_even_after_the_aware_twin() -> None:
    """A naive datetime is refused every time, whatever was written before."""
    to_ts(NOW)
    with pytest.raises(InvalidInput):
        to_ts(NOW.replace(tzinfo=None))


def test_router_texts_follow_the_rules_of_the_moment() -> None:
    """Filled texts are remembered per template and values: new rules, new texts."""
    message = Message("+447700900123", "international", "PIZZA", NOW, 1)
    texts = []
    for name in ("Textline", "Other Line", "Textline"):
        rules = Rules(gateway_name=name, contact="help@example.org")
        actions = route(message, State(code=CODE), NOW, rules)
        texts.append([a.template for a in actions if isinstance(a, Reply)])
    assert texts[0] == texts[2] != texts[1]
    assert all("Other Line" in t for t in texts[1][:1]) and "Hot pizza from Pizza Co" in texts[1]


def test_optout_phrases_match_whole_words_only() -> None:
    """A phrase matches as consecutive whole words; no phrases configured, no phrase opt-out."""
    vocab = Vocabulary(optout_phrases=("no more", "stop texting"))
    assert is_optout_phrase(vocab, "No more!")
    assert is_optout_phrase(vocab, "please STOP texting me")
    assert not is_optout_phrase(vocab, "no moreover")
    assert not is_optout_phrase(vocab, "nono more")
    assert not is_optout_phrase(replace(vocab, optout_phrases=()), "no more")


def test_user_codes_use_every_letter_in_every_place() -> None:
    """Codes have the right length and alphabet, and each place takes every letter."""
    codes = [new_user_code() for _ in range(3000)]
    assert {len(c) for c in codes} == {USER_CODE_LENGTH}
    for place in range(USER_CODE_LENGTH):
        # A letter missing from a place by chance: (30/31) ** 3000, about e ** -98.
        assert {c[place] for c in codes} == set(USER_CODE_ALPHABET)


def test_json_rows_refuses_values_json_would_change() -> None:
    """bool and int or str subclasses are refused (JSON would turn them into other values)."""

    class Level(IntEnum):
        LOW = 1

    assert json_rows([[1, "x"], [True, "y"]]) is None
    assert json_rows([[Level.LOW]]) is None
    assert json_rows([[1, None], [2.5, "z"]]) == '[[1, null], [2.5, "z"]]'


def test_burst_logs_one_routed_line_per_message_without_personal_data(tmp_path: Path) -> None:
    """A burst logs, in order, one JSON message_routed line per message: its id, the
    actions' names and the replies queued; never the number or the text."""
    store = Store.open(tmp_path / "smsd.db")
    store.directory.add_business("Pizza Co", now=NOW)
    store.directory.add_code("Pizza Co", "pizza", "Hot pizza {user_code}", now=NOW)
    texts = enumerate(["PIZZA", "HELP", "pizza margherita"])
    drafts = [IncomingDraft(f"+44770090012{i}", "international", t, NOW) for i, t in texts]
    err = io.StringIO()
    try:
        with redirect_stderr(err):
            configure_logging("info", "json")
            pipeline = Pipeline(store, Rules(), clock=lambda: NOW)
            with pipeline.burst() as burst:
                ids = [i for i in store.inbox.record_incoming_many(drafts) if i is not None]
                burst.route(ids)
    finally:
        structlog.reset_defaults()
        store.close()
    lines = [json.loads(line) for line in err.getvalue().splitlines()]
    routed = [e for e in lines if e["event"] == "message_routed"]
    assert [e["incoming_id"] for e in routed] == ids
    assert [sorted(e) for e in routed] == [
        ["actions", "event", "incoming_id", "level", "queued", "timestamp"]
    ] * 3
    done = {p.incoming_id: p for p in burst.routed.processed}
    for event in routed:
        processed = done[event["incoming_id"]]
        assert event["actions"] == [type(a).__name__ for a in processed.actions]
        assert event["queued"] == len(processed.outgoing_ids) > 0
        assert event["level"] == "info"
    assert "+4477" not in err.getvalue() and "margherita" not in err.getvalue()
