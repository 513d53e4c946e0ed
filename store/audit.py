"""The audit trail of operator actions on personal data (`store.audit`).

Every operator action that reveals or changes personal data writes one `audit` row (who,
when, what, about whom, why) in the same transaction as the action itself, so a change can
never happen without its record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from store.base import Part, from_ts, to_ts
from store.errors import InvalidInput

__all__ = ["Audit", "AuditEntry"]


@dataclass(frozen=True)
class AuditEntry:
    """One audited operator action."""

    id: int
    at: datetime
    actor: str
    action: str
    subject: str | None
    reason: str | None


def _at(value: str) -> datetime:
    at = from_ts(value)
    assert at is not None
    return at


class Audit(Part):
    """Writing and reading the audit trail."""

    def record_audit(
        self,
        actor: str,
        action: str,
        subject: str | None,
        reason: str | None = None,
        *,
        now: datetime | None = None,
    ) -> int:
        """Append one audit row (joins the caller's transaction); return its id."""
        if not actor.strip() or not action.strip():
            raise InvalidInput("an audit record needs an actor and an action")
        at = to_ts(now or datetime.now(UTC))
        with self.core.transaction() as db:
            cur = db.execute(
                "INSERT INTO audit (at, actor, action, subject, reason) VALUES (?, ?, ?, ?, ?)",
                (at, actor.strip(), action, subject, reason),
            )
            return int(cur.lastrowid or 0)

    def list_audit(self, *, subject: str | None = None, limit: int = 1000) -> list[AuditEntry]:
        """Audit records, oldest first (only those about `subject` when given)."""
        if subject is None:
            rows = self._rows("SELECT * FROM audit ORDER BY id LIMIT ?", (limit,))
        else:
            rows = self._rows(
                "SELECT * FROM audit WHERE subject = ? ORDER BY id LIMIT ?", (subject, limit)
            )
        return [
            AuditEntry(r["id"], _at(r["at"]), r["actor"], r["action"], r["subject"], r["reason"])
            for r in rows
        ]
