"""A burst of messages routed together: reads and writes for many senders in a few statements.

`store.routing.burst`. The pipeline routes a burst in passes (`smsd.burst`, usually one):
for a pass this part reads what the router needs about every sender at once (`senders`:
person, opt-ins, recent traffic) and writes every decision at once (`apply`): people,
requests, opt events, replies and the messages' new states, each table in one statement for
all rows, and on PostgreSQL all of them in one round trip (`store.batch`). The rows are those
`Routing.apply` writes for each message in turn; a sender's later messages in a pass take
the person their first one created.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from store.base import Part, from_ts, to_ts
from store.batch import Batch, query_many, write_many
from store.directory import _CODE_SELECT, _code, new_user_code, person_from_row
from store.errors import Conflict, InvalidInput, NotFound
from store.inbox import _incoming
from store.models import Code, Incoming, OptinDraft, Person, Plan
from store.rules_models import BusinessPolicy, Poll
from store.rules_schema import poll_from_row
from store.textfold import fold_keyword

__all__ = [
    "COUNTED_REPLIES",
    "Applied",
    "Burst",
    "BurstWrite",
    "CodeRules",
    "SenderFacts",
    "optins_after",
]

#: The outgoing kinds the reply rate limit counts (`SenderFacts.replies`).
COUNTED_REPLIES = ("user_code", "reply", "help", "confirm")

_USER_CODE_TRIES = 20
_IDS = "(SELECT CAST(value AS INTEGER) FROM json_each(?))"
_TEXTS = "(SELECT value FROM json_each(?1))"

# `Directory.find_code` for each word at once: the word comes back with its code, and with
# the code's business policy and poll (`Consent.code_rules`).
_CODES_SQL = (
    "SELECT k.value AS word, x.*, bp.double_opt_in, bp.frequency, p.id AS poll_id,"  # noqa: S608 - constant SQL
    " p.options AS poll_options, p.created_at AS poll_created_at, p.closes_at AS poll_closes_at,"
    " p.closed_at AS poll_closed_at FROM json_each(?1) k"
    f" JOIN ({_CODE_SELECT}) x ON x.keyword = k.value"
    "  OR x.id = (SELECT code_id FROM code_aliases WHERE alias = k.value)"
    " LEFT JOIN business_policy bp ON bp.business_id = x.business_id"
    " LEFT JOIN polls p ON p.code_id = x.id"
)
# `Routing.person_and_optins` for each sender: a row per person and business with their
# latest opt event there (found per person by index), or one row with NULLs if none.
_PEOPLE_SQL = (
    "SELECT p.*, e.business_id AS optin_business, e.kind AS optin_kind FROM people p"
    " LEFT JOIN optin_events e ON e.person_id = p.id AND e.id = (SELECT max(x.id)"
    "  FROM optin_events x WHERE x.person_id = p.id AND x.business_id = e.business_id)"
    " WHERE p.phone IN (SELECT value FROM json_each(?1))"
)
# `Routing.sender_activity` for each sender: r(eplies), l(oop) and t(ext) rows; the counts
# are subqueries run per sender (index lookups), whatever the planner thinks of the tables.
_ACTIVITY_SQL = (
    "SELECT 'r' AS tag, k.value AS who, (SELECT count(*) FROM outgoing o"  # noqa: S608 - constant
    "  WHERE o.recipient = k.value AND o.created_at >= ?2"
    f"  AND o.kind IN {COUNTED_REPLIES!r}) AS n, NULL AS text"
    " FROM json_each(?1) k"
    " UNION ALL SELECT 'l', k.value, (SELECT count(*) FROM (SELECT 1 FROM incoming i"
    "  WHERE i.sender = k.value AND i.received_at >= ?3 AND i.error = 'loop' LIMIT 1) x), NULL"
    " FROM json_each(?1) k"
    " UNION ALL SELECT 't', sender, id, text FROM incoming"
    " WHERE sender IN (SELECT value FROM json_each(?1)) AND received_at >= ?3 AND id < ?4"
    "  AND part_of IS NULL AND text IS NOT NULL AND state != 'partial'"
)
# `Consent.pending_keywords` for each person.
_PENDING_SQL = (
    "SELECT q.person_id, c.keyword FROM codes c JOIN (SELECT person_id,"  # noqa: S608 - constant
    " max(code_id) AS code_id,"
    f" min(id) AS first FROM optin_pending WHERE person_id IN {_IDS} AND confirmed_at IS NULL"
    " GROUP BY person_id, business_id) q ON q.code_id = c.id ORDER BY q.person_id, q.first"
)
_INCOMING_SQL = f"SELECT * FROM incoming WHERE id IN {_IDS}"  # noqa: S608 - constant SQL
_PERSON_SQL = (
    "INSERT INTO people (phone, user_code, created_at) VALUES (?, ?, ?)"
    " ON CONFLICT (user_code) DO NOTHING"
)
_REQUEST_SQL = (
    "INSERT INTO requests (person_id, business_id, code_id, at, incoming_id) VALUES (?, ?, ?, ?, ?)"
)
_OPTIN_SQL = (
    "INSERT INTO optin_events (person_id, business_id, kind, at, keyword, incoming_id)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
_OUTGOING_SQL = (
    "INSERT INTO outgoing (recipient, text, kind, business_id, incoming_id, person_id,"
    " state, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?)"
)
_STATE_SQL = f"UPDATE incoming SET state = ?, error = ? WHERE id IN {_IDS}"  # noqa: S608


@dataclass(frozen=True)
class CodeRules:
    """A code, its business's policy and its poll (`Consent.code_rules`)."""

    code: Code
    policy: BusinessPolicy | None
    poll: Poll | None


@dataclass(frozen=True)
class SenderFacts:
    """What the store knows about one sender (`person_and_optins` and `sender_activity`)."""

    person: Person | None = None
    optins: dict[int, bool] = field(default_factory=dict)
    replies: int = 0  # replies queued to this number since `replies_since`
    texts: tuple[tuple[int, str], ...] = ()  # (incoming id, text) since `texts_since`, by id
    loop_marked: bool = False

    def texts_before(self, incoming_id: int) -> tuple[str, ...]:
        """The texts of messages older than `incoming_id` (as `sender_activity` reads them)."""
        return tuple(text for i, text in self.texts if i < incoming_id)


@dataclass(frozen=True)
class Applied:
    """What `Burst.apply` wrote for one message: its person (if any) and outgoing ids."""

    person: Person | None
    outgoing_ids: tuple[int, ...]


@dataclass(frozen=True)
class BurstWrite:
    """One message's decision: its sender's person as read, their opt-in status, the plan."""

    message: Incoming
    person: Person | None
    optins: dict[int, bool]
    plan: Plan


@dataclass
class _Rows:
    requests: list[tuple[object, ...]] = field(default_factory=list)
    optins: list[tuple[object, ...]] = field(default_factory=list)
    outgoing: list[tuple[object, ...]] = field(default_factory=list)
    states: list[tuple[str, str | None, int]] = field(default_factory=list)
    owners: list[int] = field(default_factory=list)  # index of the write of each outgoing row


class Burst(Part):
    """Reads and writes for a burst of messages (see the module docstring)."""

    def incoming(self, ids: Sequence[int]) -> dict[int, Incoming]:
        """The messages with these ids; `NotFound` if one is missing (as `get_incoming`)."""
        (rows,) = query_many(self.core, [(_INCOMING_SQL, (json.dumps(list(ids)),))])
        found = {int(r["id"]): _incoming(r) for r in rows}
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFound(f"no incoming message {missing[0]}")
        return found

    def codes(self, words: Iterable[str]) -> dict[str, CodeRules]:
        """word -> its code (keyword or alias, as `find_code`) with the code's rules."""
        keys = _code_keys(words)
        if not keys:
            return {}
        (rows,) = query_many(self.core, [_codes_query(keys)])
        return _codes_found(keys, rows)

    def senders(
        self, phones: Sequence[str], *, replies_since: datetime, texts_since: datetime,
        before_id: int,
    ) -> dict[str, SenderFacts]:  # fmt: skip
        """phone -> `SenderFacts` for each sender, texts older than `before_id`: two queries
        sent together."""
        people, activity = query_many(
            self.core, _sender_queries(phones, replies_since, texts_since, before_id)
        )
        return _facts(phones, people, activity)

    def codes_and_senders(
        self, words: Iterable[str], phones: Sequence[str], *, replies_since: datetime,
        texts_since: datetime, before_id: int,
    ) -> tuple[dict[str, CodeRules], dict[str, SenderFacts]]:  # fmt: skip
        """`codes` and `senders` at once: on PostgreSQL one round trip for the three queries."""
        keys = _code_keys(words)
        queries = _sender_queries(phones, replies_since, texts_since, before_id)
        if keys:
            queries.append(_codes_query(keys))
        people, activity, *codes = query_many(self.core, queries)
        return _codes_found(keys, codes[0]) if keys else {}, _facts(phones, people, activity)

    def pending_keywords(self, person_ids: Iterable[int]) -> dict[int, list[str]]:
        """person id -> `Consent.pending_keywords` of that person."""
        ids = sorted(set(person_ids))
        if not ids:
            return {}
        (rows,) = query_many(self.core, [(_PENDING_SQL, (json.dumps(ids),))])
        out: dict[int, list[str]] = {i: [] for i in ids}
        for row in rows:
            out[int(row["person_id"])].append(str(row["keyword"]))
        return out

    def apply(self, writes: Sequence[BurstWrite], now: datetime) -> list[Applied]:
        """Write each message's plan as `Routing.apply` would, every table in one statement:
        (person, outgoing ids) for each. The caller holds the write transaction and has read
        each message in state 'new'. A write without a person whose sender's person an
        earlier write of `writes` creates takes that person (the sender's later messages)."""
        stamp = to_ts(now)
        made: set[str] = set()  # senders whose person an earlier write created
        with self.core.transaction():
            creating = [w.message.sender for w in writes if w.plan.create_person and not w.person]
            created = self._create_people(list(dict.fromkeys(creating)), stamp)
            rows = _Rows()
            persons: list[Person | None] = []
            for i, write in enumerate(writes):
                person = write.person
                if person is None and (write.plan.create_person or write.message.sender in made):
                    person = created[write.message.sender]
                    made.add(write.message.sender)
                persons.append(_collect(rows, i, write, person, stamp))
            _, _, out_ids, _ = write_many(
                self.core,
                [
                    Batch(_REQUEST_SQL, rows.requests),
                    Batch(_OPTIN_SQL, rows.optins),
                    Batch(_OUTGOING_SQL, rows.outgoing, ids=True),
                    Batch(_STATE_SQL, _by_state(rows.states)),
                ],
            )
        outgoing: list[list[int]] = [[] for _ in writes]
        for owner, row_id in zip(rows.owners, out_ids, strict=True):
            assert row_id is not None
            outgoing[owner].append(row_id)
        return [Applied(p, tuple(ids)) for p, ids in zip(persons, outgoing, strict=True)]

    def _create_people(self, phones: list[str], stamp: str) -> dict[str, Person]:
        """New people with fresh user codes, in order; a drawn code already taken is drawn
        again (`Directory.create_person`)."""
        made: dict[str, Person] = {}
        created = from_ts(stamp)
        assert created is not None
        for _ in range(_USER_CODE_TRIES):
            if not phones:
                return made
            rows = [(phone, new_user_code(), stamp) for phone in phones]
            (ids,) = write_many(self.core, [Batch(_PERSON_SQL, rows, True, ("user_code", 1))])
            for (phone, code, _), row_id in zip(rows, ids, strict=True):
                if row_id is not None:
                    made[phone] = Person(row_id, phone, code, created)
            phones = [phone for phone in phones if phone not in made]
        raise Conflict("could not draw an unused user code")  # pragma: no cover


def _collect(
    rows: _Rows, index: int, write: BurstWrite, person: Person | None, stamp: str
) -> Person | None:
    """Add one message's rows for `person` (as read, or created); its person (as
    `Routing.apply` returns it)."""
    message, plan = write.message, write.plan
    if (plan.requests or plan.optins) and person is None:
        raise InvalidInput("requests and opt events need a person (create_person)")
    if person is not None:
        rows.requests.extend(
            (person.id, r.business_id, r.code_id, stamp, message.id) for r in plan.requests
        )
        status = dict(write.optins)
        for optin in plan.optins:
            for business_id in _targets(optin, status):
                rows.optins.append(
                    (person.id, business_id, optin.kind, stamp, optin.keyword, message.id)
                )
                status[business_id] = optin.kind == "in"
    for reply in plan.replies:
        text = reply.text.replace("{user_code}", person.user_code if person else "")
        if not text:
            raise InvalidInput("outgoing text must not be empty")
        person_id = None if person is None else person.id
        rows.outgoing.append(
            (message.sender, text, reply.kind, reply.business_id, message.id, person_id, stamp,
             stamp)
        )  # fmt: skip
        rows.owners.append(index)
    rows.states.append((plan.state, plan.reason, message.id))
    return person


def optins_after(optins: dict[int, bool], plan: Plan) -> dict[int, bool]:
    """The opt-in status (business -> in) once `plan`'s opt events are written for a person
    whose status was `optins` (what `Burst.apply` writes, as the next read sees it)."""
    status = dict(optins)
    for optin in plan.optins:
        for business_id in _targets(optin, status):
            status[business_id] = optin.kind == "in"
    return status


def _by_state(states: list[tuple[str, str | None, int]]) -> list[tuple[str, str | None, str]]:
    """One `_STATE_SQL` row per (state, reason): the ids of every message that ends so."""
    groups: dict[tuple[str, str | None], list[int]] = {}
    for state, reason, incoming_id in states:
        groups.setdefault((state, reason), []).append(incoming_id)
    return [(state, reason, json.dumps(ids)) for (state, reason), ids in groups.items()]


def _targets(optin: OptinDraft, status: dict[int, bool]) -> list[int]:
    """The businesses an opt event is written for (`Routing._write_optin`)."""
    if optin.business_id is not None:
        return [optin.business_id]
    wanted = optin.kind == "out"  # out of those in; back into those left
    return sorted(b for b, is_in in status.items() if is_in == wanted)


def _code_keys(words: Iterable[str]) -> dict[str, str]:
    return {word: fold_keyword(word.strip()) for word in words}


def _codes_query(keys: dict[str, str]) -> tuple[str, tuple[str]]:
    return _CODES_SQL, (json.dumps(sorted(set(keys.values()))),)


def _codes_found(keys: dict[str, str], rows: list[dict[str, Any]]) -> dict[str, CodeRules]:
    by_key: dict[str, CodeRules] = {}
    for row in rows:
        by_key.setdefault(row["word"], _code_rules(row))
    return {word: by_key[key] for word, key in keys.items() if key in by_key}


def _sender_queries(
    phones: Sequence[str], replies_since: datetime, texts_since: datetime, before_id: int
) -> list[tuple[str, tuple[object, ...]]]:
    phones_json = json.dumps(sorted(set(phones)))
    return [
        (_PEOPLE_SQL, (phones_json,)),
        (_ACTIVITY_SQL, (phones_json, to_ts(replies_since), to_ts(texts_since), before_id)),
    ]


def _facts(
    phones: Sequence[str], people: list[dict[str, Any]], activity: list[dict[str, Any]]
) -> dict[str, SenderFacts]:
    """`SenderFacts` per phone from the rows of `_PEOPLE_SQL` and `_ACTIVITY_SQL`."""
    persons: dict[str, Person] = {}
    optins: dict[str, dict[int, bool]] = {}
    for row in people:
        phone = str(row["phone"])
        if phone not in persons:
            persons[phone] = person_from_row(row)
            optins[phone] = {}
        if row["optin_business"] is not None:
            optins[phone][int(row["optin_business"])] = row["optin_kind"] == "in"
    counts = {(r["tag"], r["who"]): int(r["n"]) for r in activity if r["tag"] != "t"}
    texts: dict[str, list[tuple[int, str]]] = {}
    for r in activity:
        if r["tag"] == "t":
            texts.setdefault(r["who"], []).append((int(r["n"]), str(r["text"])))
    return {
        phone: SenderFacts(
            persons.get(phone),
            optins.get(phone, {}),
            counts.get(("r", phone), 0),
            tuple(sorted(texts.get(phone, ()))),
            counts.get(("l", phone), 0) > 0,
        )
        for phone in phones
    }


def _code_rules(row: dict[str, Any]) -> CodeRules:
    policy = None
    if row["double_opt_in"] is not None:
        policy = BusinessPolicy(
            int(row["business_id"]),
            bool(row["double_opt_in"]),
            row["frequency"],
        )
    poll = None
    if row["poll_id"] is not None:
        poll = poll_from_row(
            {
                "id": row["poll_id"], "code_id": row["id"], "business_id": row["business_id"],
                "keyword": row["keyword"], "options": row["poll_options"],
                "created_at": row["poll_created_at"], "closes_at": row["poll_closes_at"],
                "closed_at": row["poll_closed_at"],
            }
        )  # fmt: skip
    return CodeRules(_code(row), policy, poll)
