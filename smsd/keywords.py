"""What a text means before any code is looked up: folded words, opt-out wording, vocabularies.

Pure. Texts are folded (`store.textfold.fold`: NFKC, accents removed, case folded) before
matching, so ``ＳＴＯＰ``, ``Arrêt`` and ``stop`` are the same word.

Opt-out is recognised three ways (see docs/RULES.md for the sources):

1. The first word is an opt-out keyword: the English set carriers and the FCC name (STOP,
   QUIT, END, REVOKE, OPTOUT, CANCEL, UNSUBSCRIBE, STOPALL) plus AWS's list (ARRET, REMOVE, TD,
   OPT-OUT) and other languages' words (BAJA, STOPP, HALT, ...). Configurable; the defaults
   are in `smsd.settings`.
2. The text is a short message (at most `Vocabulary.phrase_max_words` words) containing an
   opt-out phrase as consecutive words ("stop texting me", "please unsubscribe", "remove me",
   "no more"). Configurable. Long messages are not scanned: a review that says "no more than
   two pizzas" is not a revocation.
3. Anything else is not an opt-out.

A false positive costs one confirmation that says how to opt back in; a missed opt-out costs
an unwanted text to someone who asked us to stop. The defaults lean towards the first.
"""

from __future__ import annotations

import re
from functools import lru_cache

from smsd.settings import Vocabulary
from store.textfold import fold, fold_keyword

__all__ = ["first_word", "is_optout_phrase", "is_stop", "phrase_words", "words"]

_EDGE_PUNCTUATION = re.compile(r"^[\W_]+|[\W_]+$")
_NOT_WORD = re.compile(r"[^\w]+")


@lru_cache(maxsize=16)
def _folded(words: frozenset[str]) -> frozenset[str]:
    return frozenset(fold_keyword(w).replace("-", "") for w in words)


def is_stop(vocabulary: Vocabulary, word: str) -> bool:
    """True for an opt-out keyword (folded both sides; hyphens ignored: OPT-OUT is OPTOUT)."""
    return word.replace("-", "") in _folded(vocabulary.stop_words)


def is_optout_phrase(vocabulary: Vocabulary, text: str) -> bool:
    """True when a short `text` contains an opt-out phrase as consecutive words."""
    return _has_phrase(vocabulary.optout_phrases, vocabulary.phrase_max_words, text)


@lru_cache(maxsize=256)  # people text the same few codes over and over
def _has_phrase(phrases: tuple[str, ...], max_words: int, text: str) -> bool:
    found = phrase_words(text)
    if not found or len(found) > max_words:
        return False
    padded = " " + " ".join(found) + " "
    return _phrase_finder(phrases).search(padded) is not None


@lru_cache(maxsize=16)
def _phrase_finder(phrases: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern finding any of the space-padded phrases: a search in C where testing each
    phrase in turn costs a Python step per phrase, for every message. An empty list finds
    nothing (``(?!)`` never matches)."""
    padded = (" " + " ".join(phrase_words(p)) + " " for p in phrases)
    return re.compile("|".join(re.escape(p) for p in padded) or "(?!)")


def words(text: str) -> list[str]:
    """Folded upper-case words of `text`, trimmed of punctuation; emoji-only tokens vanish."""
    return list(_words(text))


@lru_cache(maxsize=256)  # routing asks several times per message (word, STOP, YES, phrase)
def _words(text: str) -> tuple[str, ...]:
    trimmed = (_EDGE_PUNCTUATION.sub("", fold(token)) for token in text.split())
    return tuple(word.upper() for word in trimmed if word)


def phrase_words(text: str) -> list[str]:
    """Folded lower-case words for phrase matching; apostrophes vanish (``don't`` -> ``dont``)."""
    joined = fold(text).replace("'", "").replace("\u2019", "")
    return [w for w in _NOT_WORD.split(joined) if w and w != "_"]


def first_word(text: str | None) -> str | None:
    """The first folded word of `text`, or None."""
    found = _words(text or "")  # the cached tuple: `words` would copy it
    return found[0] if found else None
