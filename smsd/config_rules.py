"""Configuration of the messaging rules: [texts] and [keywords], and their converters.

Typed sections `smsd.config` registers next to the others. Every text is checked when the
configuration loads (`smsd.templates.check_gateway`): a typo'd placeholder is a `ConfigError`
naming the key, never a text sent to customers.

```toml
[texts]                          # any of smsd.settings.TEXT_FIELDS; unset keeps the default
optin_text = "{business}: you're in! {frequency}. Msg & data rates may apply. STOP {code} to stop."

[keywords]
extra_stop_words = ["FINI"]      # added to the defaults (stop_words = [...] replaces them)
extra_optout_phrases = ["go away"]
phrase_max_words = 8
```
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from smsd.config_values import Convert, gateway_text, integer
from smsd.errors import ConfigError
from smsd.settings import TEXT_FIELDS, Vocabulary

__all__ = [
    "KEYWORDS_SCHEMA",
    "TEXTS_SCHEMA",
    "KeywordsConfig",
    "TextsConfig",
    "text_list",
    "vocabulary",
]


def text_list(key: str, value: Any) -> tuple[str, ...]:
    """A list of non-empty strings (or one comma-separated string, from the environment)."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise ConfigError(f"{key}: expected a list of strings, got {value!r}")
    cleaned = tuple(i.strip() for i in items if i.strip())
    return cleaned


def _optional_list(key: str, value: Any) -> tuple[str, ...] | None:
    return None if value is None else text_list(key, value)


@dataclass(frozen=True)
class TextsConfig:
    """[texts]: the gateway's own texts; None keeps the default of `smsd.settings.Rules`."""

    help_text: str | None = None
    user_code_text: str | None = None
    optin_text: str | None = None
    first_optin_text: str | None = None
    confirm_request_text: str | None = None
    unknown_text: str | None = None
    stop_all_text: str | None = None
    stop_one_text: str | None = None
    start_text: str | None = None
    vote_text: str | None = None
    vote_invalid_text: str | None = None
    poll_closed_text: str | None = None

    def overrides(self) -> dict[str, str]:
        """The texts that were set, by field name."""
        return {f.name: v for f in fields(self) if (v := getattr(self, f.name)) is not None}


@dataclass(frozen=True)
class KeywordsConfig:
    """[keywords]: the words the gateway answers itself and the opt-out phrases."""

    stop_words: tuple[str, ...] | None = None  # replaces the defaults
    extra_stop_words: tuple[str, ...] = ()  # added to them
    optout_phrases: tuple[str, ...] | None = None
    extra_optout_phrases: tuple[str, ...] = ()
    phrase_max_words: int = 8


TEXTS_SCHEMA: dict[str, Convert] = {name: gateway_text(name) for name in TEXT_FIELDS}
KEYWORDS_SCHEMA: dict[str, Convert] = {
    "stop_words": _optional_list,
    "extra_stop_words": text_list,
    "optout_phrases": _optional_list,
    "extra_optout_phrases": text_list,
    "phrase_max_words": integer(1),
}


def vocabulary(keywords: KeywordsConfig) -> Vocabulary:
    """The router's `Vocabulary` from [keywords] (words upper-cased; folded when matched)."""
    defaults = Vocabulary()
    stop = defaults.stop_words if keywords.stop_words is None else frozenset(keywords.stop_words)
    phrases = (
        defaults.optout_phrases if keywords.optout_phrases is None else keywords.optout_phrases
    )
    return Vocabulary(
        stop_words=frozenset(w.upper() for w in (*stop, *keywords.extra_stop_words)),
        optout_phrases=(*phrases, *keywords.extra_optout_phrases),
        phrase_max_words=keywords.phrase_max_words,
    )
