"""`store.textfold.fold`: its ASCII shortcut gives what the Unicode path gives."""

from __future__ import annotations

import unicodedata

from store.textfold import fold


def _unicode_path(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    decomposed = unicodedata.normalize("NFD", folded)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", bare).replace("ı", "i")


def test_ascii_shortcut_matches_the_unicode_path() -> None:
    """Every ASCII character, alone and in a text, folds as NFKC + casefold + NFD would."""
    every = "".join(chr(c) for c in range(128))
    assert fold(every) == _unicode_path(every)
    for c in range(128):
        assert fold(chr(c)) == _unicode_path(chr(c))


def test_non_ascii_still_takes_the_unicode_path() -> None:
    """Full-width letters, accents and the Turkish dotted I fold to plain lower case."""
    assert fold("ＰＩＺＺＡ") == "pizza"
    assert fold("CAFÉ") == "cafe"
    assert fold("PİZZA") == "pizza"
