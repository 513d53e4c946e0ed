"""Writing what the router decided (`apply`), opt-in state, and request history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from store.base import Part, StoreBase, fetch_rows, from_ts, to_ts
from store.burst import Burst
from store.business_view import BusinessView
from store.directory import Directory, person_from_row
from store.errors import InvalidInput
from store.inbox import Inbox
from store.models import HistoryRow, Incoming, OptinDraft, Person, PersonEvent, Plan
from store.outbox import Outbox

__all__ = ["Applied", "Routing", "SenderActivity"]


@dataclass(frozen=True)
class Applied:
    """What `apply` wrote: the person (if any), outgoing ids, and whether it was a no-op."""

    person: Person | None
    outgoing_ids: tuple[int, ...]
    skipped: bool = False


@dataclass(frozen=True)
class SenderActivity:
    """A sender's recent traffic, as the router's rate limit and loop check need it."""

    replies: int
    recent_texts: tuple[str, ...]
    loop_marked: bool


# One statement for three lookups; rows tagged r(eplies), l(oop), t(ext) and sorted here.
_ACTIVITY_SQL = (
    "SELECT 'r' AS tag, count(*) AS n, NULL AS text FROM outgoing WHERE recipient = ?1"
    " AND created_at >= ?2 AND kind IN ('user_code', 'reply', 'help', 'confirm')"
    " UNION ALL SELECT 'l', count(*), NULL FROM (SELECT 1 FROM incoming WHERE sender = ?1"
    "  AND received_at >= ?3 AND error = 'loop' LIMIT 1) x"
    " UNION ALL SELECT 't', id, text FROM incoming WHERE sender = ?1 AND received_at >= ?3"
    "  AND id < ?4 AND part_of IS NULL AND text IS NOT NULL AND state != 'partial'"
)
# A person and the latest opt event per business (one row per business, or one with NULLs).
_PERSON_OPTINS_SQL = (
    "SELECT p.*, e.business_id AS opt_business, e.kind AS opt_kind FROM people p"
    " LEFT JOIN optin_events e ON e.person_id = p.id AND e.id = (SELECT max(x.id)"
    "  FROM optin_events x WHERE x.person_id = p.id AND x.business_id = e.business_id)"
    " WHERE p.phone = ?"
)


def _at(row: dict[str, Any]) -> datetime:
    at = from_ts(row["at"])
    assert at is not None
    return at


class Routing(Part):
    """The one-transaction write of a routed message, plus what the router needs to read.

    `store.routing`; it writes through the directory (new people) and the outbox (replies).
    """

    def __init__(self, core: StoreBase, directory: Directory, inbox: Inbox, outbox: Outbox) -> None:
        super().__init__(core)
        self._directory = directory
        self._inbox = inbox
        self._outbox = outbox
        #: Reads and writes for a whole burst of messages (the pipeline's routing path).
        self.burst = Burst(core)

    def apply(
        self,
        incoming_id: int,
        plan: Plan,
        now: datetime,
        *,
        loaded: tuple[Incoming, Person | None] | None = None,
    ) -> Applied:
        """Write the person, requests, opt events, replies and the message's new state at once.

        Only a message in state 'new' is applied; anything else returns `skipped=True`, so
        processing the same message twice (after a crash, or a second caller) writes nothing.
        `{user_code}` in reply texts is replaced here, since a new person's code is drawn here.
        `loaded` is (message, its sender's person) as the caller read them inside the same,
        still open, transaction: they are not read again.
        """
        with self.core.transaction() as db:
            if loaded is not None and self.core.depth > 1:
                message, person = loaded
            else:
                message = self._inbox.get_incoming(incoming_id)
                person = self._directory.find_person(message.sender)
            if message.state != "new":
                return Applied(None, (), skipped=True)
            if plan.create_person and person is None:
                person = self._directory.create_person(message.sender, now)
            needs_person = plan.requests or plan.optins
            if needs_person and person is None:
                raise InvalidInput("requests and opt events need a person (create_person)")
            for req in plan.requests:
                assert person is not None
                db.execute(
                    "INSERT INTO requests (person_id, business_id, code_id, at, incoming_id)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (person.id, req.business_id, req.code_id, to_ts(now), incoming_id),
                )
            for optin in plan.optins:
                assert person is not None
                self._write_optin(person.id, optin, incoming_id, now)
            ids = tuple(
                self._outbox.queue_outgoing(
                    message.sender,
                    reply.text.replace("{user_code}", person.user_code if person else ""),
                    reply.kind,
                    now=now,
                    business_id=reply.business_id,
                    incoming_id=incoming_id,
                    person_id=None if person is None else person.id,
                )
                for reply in plan.replies
            )
            db.execute(
                "UPDATE incoming SET state = ?, error = ? WHERE id = ?",
                (plan.state, plan.reason, incoming_id),
            )
            return Applied(person, ids)

    def optin_status(self, person_id: int) -> dict[int, bool]:
        """business_id -> True (opted in) / False (opted out), from each latest event."""
        rows = fetch_rows(
            self.core,
            "SELECT business_id, kind FROM optin_events e WHERE person_id = ?1 AND id ="
            " (SELECT max(id) FROM optin_events WHERE person_id = ?1"
            "  AND business_id = e.business_id)",
            (person_id,),
        )
        return {int(r["business_id"]): r["kind"] == "in" for r in rows}

    def person_and_optins(self, phone: str) -> tuple[Person | None, dict[int, bool]]:
        """`find_person` and its `optin_status` in one statement (the routing hot path)."""
        rows = fetch_rows(self.core, _PERSON_OPTINS_SQL, (phone,))
        if not rows:
            return None, {}
        optins = {
            int(r["opt_business"]): r["opt_kind"] == "in"
            for r in rows
            if r["opt_business"] is not None
        }
        return person_from_row(rows[0]), optins

    def sender_activity(
        self, sender: str, *, replies_since: datetime, texts_since: datetime, before_id: int
    ) -> SenderActivity:
        """`replies_since`, `recent_texts` and `loop_marked_since` in one statement."""
        rows = fetch_rows(
            self.core, _ACTIVITY_SQL, (sender, to_ts(replies_since), to_ts(texts_since), before_id)
        )
        counts = {r["tag"]: int(r["n"]) for r in rows if r["tag"] != "t"}
        texts = tuple(
            str(r["text"])
            for r in sorted((r for r in rows if r["tag"] == "t"), key=lambda r: int(r["n"]))
        )
        return SenderActivity(counts["r"], texts, counts["l"] > 0)

    def history(
        self,
        business: int | str,
        code: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        limit: int | None = None,
    ) -> list[HistoryRow]:
        """A business's requests (user code, keyword, time), oldest first. Never a phone.

        With `limit`, only the latest `limit` rows (`BusinessView.page` walks further back).
        """
        return BusinessView(self._directory, business).history(code, since, until, limit=limit)

    def person_history(self, user_code: str) -> list[PersonEvent]:
        """A person's requests and opt-ins/outs across businesses, oldest first."""
        person = self._directory.get_person(user_code)
        rows = self._rows(
            "SELECT r.at, 'request' AS kind, b.name, c.keyword, r.id AS seq FROM requests r"
            " JOIN businesses b ON b.id = r.business_id JOIN codes c ON c.id = r.code_id"
            " WHERE r.person_id = ?1"
            " UNION ALL SELECT e.at, e.kind, b.name, e.keyword, e.id FROM optin_events e"
            " JOIN businesses b ON b.id = e.business_id WHERE e.person_id = ?1"
            " ORDER BY 1, 2 DESC, 5",
            (person.id,),
        )
        return [PersonEvent(_at(r), r["kind"], r["name"], r["keyword"]) for r in rows]

    def _write_optin(
        self, person_id: int, optin: OptinDraft, incoming_id: int, now: datetime
    ) -> None:
        if optin.business_id is not None:
            targets = [optin.business_id]
        else:
            # "every business": those currently in, for an opt-out; those left, for an opt-in.
            wanted = optin.kind == "out"
            targets = [b for b, is_in in self.optin_status(person_id).items() if is_in == wanted]
        for business_id in sorted(targets):
            self.core.db.execute(
                "INSERT INTO optin_events (person_id, business_id, kind, at, keyword, incoming_id)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (person_id, business_id, optin.kind, to_ts(now), optin.keyword, incoming_id),
            )
