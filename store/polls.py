"""`store.polls`: polls answered by keyword (``VOTE B``), one vote per person, k-suppressed results.

A poll belongs to a code of its business; the router sees it with the code and emits a vote.
A person's new vote replaces their old one (one row per person and poll). Results follow the
small-cell rule of `store.stats`: an option chosen by fewer than k people is shown as
suppressed, and when exactly one option is suppressed the next smallest is too, so it cannot
be worked out from the total.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from store.base import to_ts
from store.errors import Conflict, InvalidInput, NotFound
from store.rules_models import Poll, PollResult
from store.rules_schema import Core, poll_from_row, query, write
from store.textfold import fold_keyword

__all__ = ["Polls"]

_FLOOR = 2
_SELECT = (
    "SELECT p.id, p.code_id, p.options, p.created_at, p.closes_at, p.closed_at,"
    " p.business_id, c.keyword FROM polls p JOIN codes c ON c.id = p.code_id"
)


class Polls:
    """Create, vote in, read and close polls."""

    def __init__(self, core: Core) -> None:
        self._core = core

    def create(
        self, code_id: int, business_id: int, options: Sequence[str], *, now: datetime,
        closes_at: datetime | None = None,
    ) -> Poll:  # fmt: skip
        """Attach a poll to an existing code; options are folded like keywords, 2 to 20."""
        folded = [fold_keyword(o.strip()) for o in options if o.strip()]
        if not 2 <= len(folded) <= 20 or len(set(folded)) != len(folded):
            raise InvalidInput("a poll needs 2-20 distinct options")
        if any(not o.isalnum() for o in folded):
            raise InvalidInput("poll options must be single words of letters or digits")
        if closes_at is not None and closes_at <= now:
            raise InvalidInput("the closing time must be in the future")
        with self._core.transaction():
            if query(self._core, "SELECT 1 FROM polls WHERE code_id = ?", (code_id,)):
                raise Conflict("that code already has a poll")
            cur = write(
                self._core,
                "INSERT INTO polls (code_id, business_id, options, created_at, closes_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (code_id, business_id, json.dumps(folded), to_ts(now),
                 None if closes_at is None else to_ts(closes_at)),
            )  # fmt: skip
            assert cur.lastrowid is not None
            return self.get(cur.lastrowid)

    def get(self, poll_id: int) -> Poll:
        """One poll by id; `NotFound` otherwise."""
        rows = query(self._core, _SELECT + " WHERE p.id = ?", (poll_id,))
        if not rows:
            raise NotFound(f"no poll {poll_id}")
        return poll_from_row(rows[0])

    def for_keyword(self, keyword: str) -> Poll:
        """The poll on the code with this keyword; `NotFound` otherwise."""
        rows = query(self._core, _SELECT + " WHERE c.keyword = ?", (fold_keyword(keyword),))
        if not rows:
            raise NotFound(f"no poll on code {fold_keyword(keyword)!r}")
        return poll_from_row(rows[0])

    def vote(
        self, poll_id: int, person_id: int, option: str, *, now: datetime,
        incoming_id: int | None = None,
    ) -> None:  # fmt: skip
        """Count the person's vote, replacing any earlier one."""
        write(
            self._core,
            "INSERT INTO poll_votes (poll_id, person_id, option, at, incoming_id)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (poll_id, person_id) DO UPDATE SET"
            " option = excluded.option, at = excluded.at, incoming_id = excluded.incoming_id",
            (poll_id, person_id, option, to_ts(now), incoming_id),
        )

    def close(self, poll_id: int, *, now: datetime) -> Poll:
        """Close the poll now (later votes are answered "closed"); closing twice is refused."""
        with self._core.transaction():
            poll = self.get(poll_id)
            if not poll.is_open(now):
                raise InvalidInput(f"poll on {poll.keyword} is already closed")
            write(self._core, "UPDATE polls SET closed_at = ? WHERE id = ?", (to_ts(now), poll_id))
            return self.get(poll_id)

    def results(self, poll_id: int, *, k: int = 5) -> PollResult:
        """Votes per option, options under `k` people suppressed (None), see the module doc."""
        if k < _FLOOR:
            raise InvalidInput(f"k must be at least {_FLOOR}")
        poll = self.get(poll_id)
        rows = query(
            self._core,
            "SELECT option, count(*) AS n FROM poll_votes WHERE poll_id = ? GROUP BY option",
            (poll_id,),
        )
        counts = {o: 0 for o in poll.options} | {r["option"]: int(r["n"]) for r in rows}
        voters = sum(counts.values())
        hidden = {o for o, n in counts.items() if n < k}
        if len(hidden) == 1 and len(counts) > 1:
            rest = sorted((o for o in counts if o not in hidden), key=lambda o: (counts[o], o))
            hidden.add(rest[0])
        shown = tuple((o, None if o in hidden else counts[o]) for o in poll.options)
        return PollResult(poll, shown, voters if voters >= k else None, k)
