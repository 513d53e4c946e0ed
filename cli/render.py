"""The one renderer for stored strings shown on a terminal, and their display width.

Text from handsets is hostile: an SMS can carry ``ESC]0;...BEL`` (retitle the window),
``ESC[2J`` (clear the screen), a newline and a fake table row, or a right-to-left override
that reverses what follows. `safe()` makes every such character visible and harmless: C0
controls, DEL, C1 controls, line/paragraph separators, bidi embeddings, overrides and
isolates, and zero-width format characters come out as ``\\xNN`` / ``\\uNNNN`` escapes (the
common ones as ``\\n``, ``\\r``, ``\\t``). Nothing else changes, so names and texts read as typed.

`width()` is the number of terminal columns a (safe) string takes: East Asian wide and full-
width characters, and most emoji, take two; combining marks take none. Tables pad with it.

`stamp()` is the one timestamp format of tables: ISO 8601 to the second in the local zone,
with the offset shown (``2026-11-28T14:44:27+00:00``); ``--json`` keeps the stored UTC value.

A leaf: standard library only, cheap to import.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime

__all__ = ["cell", "safe", "stamp", "width"]

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Format characters that reorder or hide text: bidi marks, embeddings, overrides, isolates,
# zero-width joiners/spaces and the BOM. (Category Cf also holds the emoji tag characters and
# ZWJ, which sequences need; those are kept: they cannot move the cursor or reorder text.)
_HIDDEN = frozenset(
    "\u061c\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2066\u2067\u2068\u2069\u2028\u2029\ufeff\u180e\u2060\u2061\u2062\u2063\u2064"
)


def _escape(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _harmful(ch: str) -> bool:
    code = ord(ch)
    return code < 0x20 or 0x7F <= code < 0xA0 or ch in _HIDDEN or 0xD800 <= code < 0xE000


def safe(value: object) -> str:
    """``value`` as text with every control and reordering character made visible."""
    text = "" if value is None else str(value)
    if text.isprintable() and not any(ch in _HIDDEN for ch in text):
        return text  # the common case: nothing to escape
    return "".join(_escape(ch) if _harmful(ch) else ch for ch in text)


def _char_width(ch: str) -> int:
    if unicodedata.combining(ch) or ch == "\u200d" or unicodedata.category(ch) in ("Mn", "Me"):
        return 0
    if "\ufe00" <= ch <= "\ufe0f":  # variation selectors
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def width(text: str) -> int:
    """Terminal columns ``text`` takes (wide characters 2, combining marks 0)."""
    if text.isascii():
        return len(text)
    return sum(_char_width(ch) for ch in text)


def stamp(value: datetime) -> str:
    """A timestamp as tables show it: ISO 8601 to the second, local zone, offset shown."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: stored timestamps are UTC-aware")
    return value.astimezone().isoformat(timespec="seconds")


def cell(value: object) -> str:
    """A table cell: empty for None, `stamp()` for datetimes, yes/no for flags, else `safe()`."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return stamp(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and _looks_like_stamp(value):
        try:
            return stamp(datetime.fromisoformat(value))
        except ValueError:
            pass
    return safe(value)


def _looks_like_stamp(value: str) -> bool:
    """An ISO 8601 UTC timestamp as stored (``2026-11-28T14:44:27.123456+00:00``)."""
    return len(value) >= 20 and value[4] == "-" and value[10] == "T" and value[-6] in "+-"
