"""`store.consent`: business consent policy, double opt-in, gateway-wide opt-outs, the record.

The per-business ledger stays `optin_events` (written by `store.routing`'s apply); this part
adds what it lacks: a business's policy, the double opt-ins waiting for YES, the STOP/START
that named no business (kept by phone, so a number that never got a reply can still be
refused; `store.optouts`, offered here too), and `records()`, the export a regulator or a
business asks for. Records carry user codes, never phone numbers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, cast

from store.base import from_ts, to_ts
from store.errors import NotFound
from store.optouts import OptOuts
from store.rules_models import BusinessPolicy, ConsentChannel, ConsentRecord, Poll
from store.rules_schema import Core, poll_from_row, query, write

__all__ = ["Consent"]

# Each event with the confirmation queued in answer to its message (text, delivery state).
_RECORDS = (
    "WITH ev AS ("
    " SELECT e.at, p.user_code, b.name AS business, e.business_id, e.kind,"
    "  coalesce(e.channel, CASE WHEN e.incoming_id IS NULL THEN 'operator' ELSE 'sms' END)"
    "  AS channel, e.keyword, e.incoming_id, 1 AS src, e.id AS seq"
    "  FROM optin_events e JOIN people p ON p.id = e.person_id"
    "  JOIN businesses b ON b.id = e.business_id"
    "  WHERE (?1 IS NULL OR b.id = ?1) AND (?2 IS NULL OR p.user_code = ?2)"
    " UNION ALL SELECT q.at, p.user_code, b.name, q.business_id, 'pending', 'sms', q.keyword,"
    "  q.incoming_id, 2, q.id FROM optin_pending q JOIN people p ON p.id = q.person_id"
    "  JOIN businesses b ON b.id = q.business_id"
    "  WHERE (?1 IS NULL OR b.id = ?1) AND (?2 IS NULL OR p.user_code = ?2)"
    " UNION ALL SELECT g.at, p.user_code, NULL, NULL, g.kind, g.channel, g.keyword,"
    "  g.incoming_id, 3, g.id FROM gateway_consent g LEFT JOIN people p ON p.id = g.person_id"
    "  WHERE ?1 IS NULL AND (?2 IS NULL OR p.user_code = ?2))"
    " SELECT ev.*, i.text AS received, o.text AS confirmation, o.state AS confirmation_state"
    " FROM ev LEFT JOIN incoming i ON i.id = ev.incoming_id"
    " LEFT JOIN outgoing o ON o.id = (SELECT x.id FROM outgoing x"
    "  WHERE x.incoming_id = ev.incoming_id AND x.kind IN ('confirm', 'user_code')"
    "  AND (x.business_id IS ev.business_id OR x.business_id IS NULL)"
    "  ORDER BY x.business_id IS NULL, x.id LIMIT 1)"
    " ORDER BY ev.at, ev.src, ev.seq"
)


def _at(value: Any) -> datetime:
    at = from_ts(value)
    assert at is not None
    return at


class Consent:
    """Consent policy and records; every method runs in (or joins) one store transaction."""

    def __init__(self, core: Core, optouts: OptOuts) -> None:
        self._core = core
        self._optouts = optouts

    # -- policy ---------------------------------------------------------------------------
    def set_policy(
        self, business_id: int, *, double_opt_in: bool | None = None, frequency: str | None = None
    ) -> BusinessPolicy:
        """Change a business's policy (None: keep); `frequency=""` returns to the default."""
        with self._core.transaction():
            old = self.policy(business_id)
            new = BusinessPolicy(
                business_id,
                old.double_opt_in if double_opt_in is None else double_opt_in,
                old.frequency if frequency is None else (frequency or None),
            )
            write(
                self._core,
                "INSERT INTO business_policy (business_id, double_opt_in, frequency)"
                " VALUES (?, ?, ?) ON CONFLICT (business_id) DO UPDATE SET"
                " double_opt_in = excluded.double_opt_in, frequency = excluded.frequency",
                (business_id, int(new.double_opt_in), new.frequency),
            )
            return new

    def policy(self, business_id: int) -> BusinessPolicy:
        """A business's policy (the defaults when none was set)."""
        rows = query(
            self._core,
            "SELECT double_opt_in, frequency FROM business_policy WHERE business_id = ?",
            (business_id,),
        )
        if not rows:
            return BusinessPolicy(business_id)
        return BusinessPolicy(business_id, bool(rows[0]["double_opt_in"]), rows[0]["frequency"])

    def code_rules(self, code_id: int) -> tuple[BusinessPolicy | None, Poll | None]:
        """The policy of a code's business and the code's poll, in one statement."""
        rows = query(
            self._core,
            "SELECT c.business_id, bp.double_opt_in, bp.frequency, c.keyword, p.id, p.code_id,"
            " p.options, p.created_at, p.closes_at, p.closed_at FROM codes c"
            " LEFT JOIN business_policy bp ON bp.business_id = c.business_id"
            " LEFT JOIN polls p ON p.code_id = c.id WHERE c.id = ?",
            (code_id,),
        )
        if not rows:
            raise NotFound(f"no code {code_id}")
        row = rows[0]
        policy = None
        if row["double_opt_in"] is not None:
            policy = BusinessPolicy(
                row["business_id"], bool(row["double_opt_in"]), row["frequency"]
            )
        poll = None if row["id"] is None else poll_from_row(row)
        return policy, poll

    # -- double opt-in --------------------------------------------------------------------
    def add_pending(
        self, person_id: int, business_id: int, code_id: int, keyword: str, incoming_id: int | None,
        now: datetime,
    ) -> None:  # fmt: skip
        """Record a code texted to a double opt-in business: waiting for YES."""
        write(
            self._core,
            "INSERT INTO optin_pending (person_id, business_id, code_id, keyword, at, incoming_id)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (person_id, business_id, code_id, keyword, to_ts(now), incoming_id),
        )

    def pending_keywords(self, person_id: int) -> list[str]:
        """The keyword of the latest pending code per business, oldest business first."""
        rows = query(
            self._core,
            "SELECT c.keyword FROM codes c JOIN (SELECT max(code_id) AS code_id, min(id) AS first"
            " FROM optin_pending WHERE person_id = ? AND confirmed_at IS NULL"
            " GROUP BY business_id) q ON q.code_id = c.id ORDER BY q.first",
            (person_id,),
        )
        return [str(r["keyword"]) for r in rows]

    def confirm_pending(
        self, person_id: int, business_id: int, incoming_id: int | None, now: datetime
    ) -> int:
        """Mark the person's pending opt-ins with the business confirmed; returns how many."""
        cur = write(
            self._core,
            "UPDATE optin_pending SET confirmed_at = ?, confirm_incoming_id = ?"
            " WHERE person_id = ? AND business_id = ? AND confirmed_at IS NULL",
            (to_ts(now), incoming_id, person_id, business_id),
        )
        return cur.rowcount

    # -- gateway-wide consent (store.optouts) --------------------------------------------
    def record_gateway(
        self, phone: str, kind: Literal["in", "out"], now: datetime, *,
        person_id: int | None = None, keyword: str | None = None, channel: ConsentChannel = "sms",
        incoming_id: int | None = None, actor: str | None = None,
    ) -> None:  # fmt: skip
        """Record a STOP or START that named no business (`OptOuts.record_gateway`)."""
        self._optouts.record_gateway(
            phone, kind, now, person_id=person_id, keyword=keyword, channel=channel,
            incoming_id=incoming_id, actor=actor,
        )  # fmt: skip

    def opted_out(self, phone: str) -> bool:
        """True when this number opted out and has opted in to nothing since (`OptOuts`)."""
        return self._optouts.opted_out(phone)

    # -- the record -----------------------------------------------------------------------
    def records(
        self, *, business_id: int | None = None, user_code: str | None = None
    ) -> list[ConsentRecord]:
        """Every opt-in, opt-out and pending double opt-in, oldest first.

        With `business_id`: that business's events only (gateway-wide ones are not theirs).
        """
        rows = query(self._core, _RECORDS, (business_id, user_code))
        return [_record(r) for r in rows]


def _record(row: dict[str, Any]) -> ConsentRecord:
    return ConsentRecord(
        at=_at(row["at"]),
        user_code=row["user_code"],
        business=row["business"],
        kind=cast(Literal["in", "out", "pending"], row["kind"]),
        channel=cast(ConsentChannel, row["channel"]),
        keyword=row["keyword"],
        received=row["received"],
        confirmation=row["confirmation"],
        confirmation_state=row["confirmation_state"],
    )
