"""Configuration of the rules: [texts] checked at load, [keywords], time zone, broadcast policy."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest

from smsd.config import load_config
from smsd.errors import ConfigError
from smsd.keywords import is_stop


def config_file(tmp_path: Path, body: str) -> Path:
    """A TOML file with `body`."""
    path = tmp_path / "smsd.toml"
    path.write_text(body)
    return path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[texts]\noptin_text = "{business}: hi {usercode}"\n',
         "texts.optin_text: unknown placeholder {usercode}"),
        ('[texts]\nhelp_text = "{gateway}: help {contact"\n',
         "texts.help_text: unclosed placeholder {contact"),
        ('[gateway]\nhelp_text = "[Help: {contact}"\n', "gateway.help_text: unbalanced"),
        ('[gateway]\ntime_zone = "Mars/Olympus"\n', "gateway.time_zone: unknown time zone"),
        ('[keywords]\nextra_stop_words = "FINI"\nphrase_max_words = 0\n',
         "keywords.phrase_max_words"),
    ],
)  # fmt: skip
def test_bad_rules_config_is_one_line_naming_the_key(
    tmp_path: Path, body: str, message: str
) -> None:
    """A typo in a text, an unknown zone or a bad number fails at load, naming the key."""
    with pytest.raises(ConfigError) as caught:
        load_config(config_file(tmp_path, body), env={})
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


def test_texts_keywords_and_frequency_reach_the_rules(tmp_path: Path) -> None:
    """Configured texts, extra stop words and the frequency end up in the router's Rules."""
    body = (
        '[gateway]\nfrequency = "Up to 4 msgs/month"\n'
        '[texts]\nstart_text = "{gateway}: welcome back."\n'
        '[keywords]\nextra_stop_words = ["fini"]\nextra_optout_phrases = ["go away"]\n'
    )
    rules = load_config(config_file(tmp_path, body), env={}).rules()
    assert (
        rules.start_text == "{gateway}: welcome back." and rules.frequency == "Up to 4 msgs/month"
    )
    assert is_stop(rules.vocabulary, "FINI") and is_stop(rules.vocabulary, "ARRET")
    assert "go away" in rules.vocabulary.optout_phrases


def test_broadcast_policy_from_config(tmp_path: Path) -> None:
    """Quiet hours, gateway zone, caps, repeat window and part cap in one policy."""
    body = (
        '[gateway]\ntime_zone = "Europe/Paris"\n[limits]\nquiet_hours = "21:00-08:00"\n'
        "broadcast_repeat_hours = 6\nbroadcast_daily_cap = 50\n[outgoing]\nmax_parts = 4\n"
    )
    policy = load_config(config_file(tmp_path, body), env={}).broadcast_policy()
    assert policy.quiet_hours == (time(21), time(8)) and policy.time_zone == "Europe/Paris"
    assert (policy.default_cap, policy.repeat_window, policy.max_parts) == (
        50, timedelta(hours=6), 4
    )  # fmt: skip


def test_defaults(tmp_path: Path) -> None:
    """No file: ten parts at most, a day's repeat window, the default frequency."""
    config = load_config(config_file(tmp_path, ""), env={})
    assert config.outgoing.max_parts == 10 and config.limits.broadcast_repeat_hours == 24
    assert config.rules().frequency == "Msg frequency varies"
