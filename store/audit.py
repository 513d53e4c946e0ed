"""The audit trail of operator actions on personal data, and online backups.

Every operator action that reveals or changes personal data writes one `audit` row (who,
when, what, about whom, why) in the same transaction as the action itself, so a change can
never happen without its record.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from store.base import StoreBase, from_ts, to_ts, translate
from store.errors import Conflict, InvalidInput, StoreUnavailable

__all__ = ["AuditEntry", "AuditMixin"]


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


class AuditMixin(StoreBase):
    """Writing and reading the audit trail; `backup`."""

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
        with self.transaction() as db:
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

    def backup(self, target: str | os.PathLike[str]) -> Path:
        """Copy the live database to a new file `target` (0600), consistent and online.

        Uses SQLite's online backup API, so the daemon may keep writing meanwhile; refuses to
        overwrite an existing file.
        """
        path = Path(target)
        old_umask = os.umask(0o077)
        try:
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            except FileExistsError as exc:
                raise Conflict(f"{path} exists; choose a new file") from exc
            except OSError as exc:
                raise StoreUnavailable(f"cannot create {path}: {exc.strerror}") from exc
            os.close(fd)
            try:
                dest = sqlite3.connect(path)
                try:
                    with self._lock:
                        self.db.conn.backup(dest)
                finally:
                    dest.close()
            except sqlite3.Error as exc:
                with contextlib.suppress(OSError):
                    path.unlink()
                raise translate(exc) from exc
        finally:
            os.umask(old_umask)
        return path
