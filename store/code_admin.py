"""`store.code_admin`: editing and retiring codes.

`update` changes a code's reply, description, aliases or dates in one transaction. `retire`
takes a code out of service for good: it is paused, ended and listed in `retired_codes`; its
keyword and aliases stay taken, so no other business can pick them up and receive texts meant
for the old one (a person who saved the keyword gets "unknown code", never a stranger's reply).
A retired code cannot be updated or resumed here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Final

from store.base import to_ts
from store.directory import normalize_keyword
from store.errors import Conflict, InvalidInput, NotFound
from store.rules_schema import Core, query, write
from store.textfold import fold_keyword

__all__ = ["KEEP", "CodeAdmin", "Keep"]


class Keep:
    """The type of `KEEP`: leave this field as it is."""


KEEP: Final = Keep()


class CodeAdmin:
    """Update and retire codes (reading them back is `store.directory`'s job)."""

    def __init__(self, core: Core) -> None:
        self._core = core

    def _code_id(self, keyword: str) -> int:
        rows = query(
            self._core,
            "SELECT c.id, r.code_id AS retired FROM codes c"
            " LEFT JOIN retired_codes r ON r.code_id = c.id WHERE c.keyword = ?",
            (fold_keyword(keyword.strip()),),
        )
        if not rows:
            raise NotFound(f"no code {fold_keyword(keyword.strip())!r}")
        if rows[0]["retired"] is not None:
            raise InvalidInput(f"code {fold_keyword(keyword.strip())} is retired")
        return int(rows[0]["id"])

    def update(
        self, keyword: str, *, reply: str | Keep = KEEP, description: str | Keep | None = KEEP,
        aliases: Iterable[str] | Keep = KEEP, starts_at: datetime | Keep | None = KEEP,
        ends_at: datetime | Keep | None = KEEP,
    ) -> int:  # fmt: skip
        """Change the given fields of a code; returns its id. Aliases replace the old set."""
        changes: dict[str, object] = {}
        if not isinstance(reply, Keep):
            if not reply.strip():
                raise InvalidInput("reply must not be empty")
            changes["reply"] = reply
        if not isinstance(description, Keep):
            changes["description"] = description
        for name, when in (("starts_at", starts_at), ("ends_at", ends_at)):
            if not isinstance(when, Keep):
                changes[name] = None if when is None else to_ts(when)
        with self._core.transaction():
            code_id = self._code_id(keyword)
            for column, value in changes.items():
                # Column names come from the fixed tuple above, never from the caller.
                sql = f"UPDATE codes SET {column} = ? WHERE id = ?"  # noqa: S608
                write(self._core, sql, (value, code_id))
            if not isinstance(aliases, Keep):
                self._replace_aliases(code_id, [normalize_keyword(a) for a in aliases])
            return code_id

    def _replace_aliases(self, code_id: int, words: list[str]) -> None:
        write(self._core, "DELETE FROM code_aliases WHERE code_id = ?", (code_id,))
        for word in dict.fromkeys(words):
            taken = query(
                self._core,
                "SELECT 1 FROM codes WHERE keyword = ?1 UNION ALL"
                " SELECT 1 FROM code_aliases WHERE alias = ?1",
                (word,),
            )
            if taken:
                raise Conflict(f"keyword {word} is already taken")
            write(
                self._core,
                "INSERT INTO code_aliases (alias, code_id) VALUES (?, ?)",
                (word, code_id),
            )

    def retire(
        self, keyword: str, *, now: datetime, actor: str | None = None, reason: str | None = None
    ) -> int:
        """Take the code out of service for good (see the module docstring); returns its id."""
        with self._core.transaction():
            code_id = self._code_id(keyword)
            write(
                self._core,
                "UPDATE codes SET paused = 1, ends_at = min(coalesce(ends_at, ?1), ?1)"
                " WHERE id = ?2",
                (to_ts(now), code_id),
            )
            write(
                self._core,
                "INSERT INTO retired_codes (code_id, at, actor, reason) VALUES (?, ?, ?, ?)",
                (code_id, to_ts(now), actor, reason),
            )
            return code_id

    def is_retired(self, keyword: str) -> bool:
        """True when the code with this keyword was retired."""
        rows = query(
            self._core,
            "SELECT 1 FROM retired_codes r JOIN codes c ON c.id = r.code_id WHERE c.keyword = ?",
            (fold_keyword(keyword.strip()),),
        )
        return bool(rows)
