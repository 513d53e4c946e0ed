"""`store.optouts`: whether a number may be texted, and the STOP/START that named no business.

The gateway-wide consent is kept by phone number (`gateway_consent`), so an opt-out from a
number we never answered still counts; the per-business ledger is `optin_events` (written by
`store.routing`). `store.consent` (policy, double opt-in, the record) offers both methods too,
through this part. Split from it because `smsd send` asks only `opted_out` before queueing: a
module with one query and one insert and no dataclass to build at import.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from store.base import Part, fetch_rows, to_ts

if TYPE_CHECKING:  # a Literal for annotations; the module builds the consent dataclasses
    from store.rules_models import ConsentChannel

__all__ = ["OptOuts"]


class OptOuts(Part):
    """Gateway-wide STOP/START and the opted-out check (`store.optouts`)."""

    def record_gateway(
        self, phone: str, kind: Literal["in", "out"], now: datetime, *,
        person_id: int | None = None, keyword: str | None = None, channel: ConsentChannel = "sms",
        incoming_id: int | None = None, actor: str | None = None,
    ) -> None:  # fmt: skip
        """Record a STOP or START that named no business (kept by phone number)."""
        with self.core.transaction() as db:
            db.conn.execute(
                "INSERT INTO gateway_consent (phone, person_id, kind, at, keyword, channel,"
                " incoming_id, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (phone, person_id, kind, to_ts(now), keyword, channel, incoming_id, actor),
            )

    def opted_out(self, phone: str) -> bool:
        """True when this number asked us to stop and has opted in to nothing since.

        Opted out: the latest gateway-wide event is 'out', or the person left a business;
        and in both cases no business currently has them opted in.
        """
        rows = fetch_rows(
            self.core,
            "SELECT (SELECT kind FROM gateway_consent WHERE phone = ?1 ORDER BY id DESC LIMIT 1)"
            " AS gateway, (SELECT group_concat(e.kind) FROM optin_events e"
            "  JOIN people p ON p.id = e.person_id WHERE p.phone = ?1 AND e.id ="
            "  (SELECT max(x.id) FROM optin_events x WHERE x.person_id = e.person_id"
            "   AND x.business_id = e.business_id)) AS latest",
            (phone,),
        )
        latest = set((rows[0]["latest"] or "").split(",")) - {""}
        if "in" in latest:
            return False
        return rows[0]["gateway"] == "out" or "out" in latest
