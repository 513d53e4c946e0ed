"""Folding keywords for matching: Unicode NFKC, accents removed, case folded, upper-cased.

A handset may send a code as full-width letters (``ＰＩＺＺＡ``), with accents the code lacks
(``CAFÉ`` for ``CAFE``) or with letters whose case rules are language-specific (Turkish
``PİZZA``). Both the keywords stored for codes and the words texted are folded the same way,
so they meet. Pure functions; the router and the store both use them.
"""

from __future__ import annotations

__all__ = ["fold", "fold_keyword"]


def fold(text: str) -> str:
    """`text` NFKC-normalised, case-folded and stripped of combining marks (lower case).

    ``"ＰＩＺＺＡ"`` -> ``"pizza"``, ``"CAFÉ"`` -> ``"cafe"``, ``"PİZZA"`` -> ``"pizza"``
    (casefold turns U+0130 into ``i`` + a combining dot, which is then dropped).
    """
    if text.isascii():  # the usual text: NFKC, NFD and NFC leave ASCII as it is
        return text.lower()
    import unicodedata  # start-up cost (a C extension): `smsd send` imports but never folds

    folded = unicodedata.normalize("NFKC", text).casefold()
    decomposed = unicodedata.normalize("NFD", folded)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # Dotless ı has no decomposition: it is an i with its dot already gone.
    return unicodedata.normalize("NFC", bare).replace("ı", "i")


def fold_keyword(word: str) -> str:
    """A keyword as stored and looked up: `fold` then upper case (``"café"`` -> ``"CAFE"``)."""
    return fold(word).upper()
