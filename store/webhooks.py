"""Webhooks (`store.webhooks`): a URL per business or for the operator, with its secret.

The signing secret (`whsec_` + base64 of 32 random bytes, the Standard Webhooks form) is
stored as is, because signing needs it, and shown once when the webhook is added. Removing a
webhook keeps its rows (deliveries stop); `retry` puts its parked deliveries back in the queue
with a fresh retry window.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from store.base import Part, StoreBase, from_ts, to_ts
from store.directory import Directory
from store.errors import InvalidInput, NotFound

__all__ = ["Webhook", "Webhooks", "new_secret"]


def new_secret() -> str:
    """A Standard Webhooks signing secret: `whsec_` and base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass(frozen=True)
class Webhook:
    """A webhook and its delivery counts (business None: the operator's)."""

    id: int
    business_id: int | None
    business: str | None
    url: str
    created_at: datetime
    removed_at: datetime | None
    pending: int
    delivered: int
    failed: int


def _check_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"webhook URL must be http(s)://host/..., got {url!r}")
    if any(c.isspace() or ord(c) < 32 for c in url.strip()):
        raise InvalidInput("webhook URL must not contain spaces or control characters")
    return url.strip()


_LIST_SQL = (
    "SELECT w.id, w.business_id, b.name, w.url, w.created_at, w.removed_at,"
    " (SELECT count(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id"
    "  AND d.state = 'pending'),"
    " (SELECT count(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id"
    "  AND d.state = 'delivered'),"
    " (SELECT count(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id"
    "  AND d.state = 'failed')"
    " FROM webhooks w LEFT JOIN businesses b ON b.id = w.business_id"
)


def _webhook(row: Any) -> Webhook:
    created = from_ts(row[4])
    assert created is not None
    return Webhook(
        int(row[0]), row[1], row[2], str(row[3]), created, from_ts(row[5]),
        int(row[6]), int(row[7]), int(row[8]),
    )  # fmt: skip


class Webhooks(Part):
    """Adding, listing, removing webhooks, retrying their parked deliveries (`store.webhooks`)."""

    def __init__(self, core: StoreBase, directory: Directory) -> None:
        super().__init__(core)
        self._directory = directory

    def add(self, business: int | str | None, url: str, *, now: datetime) -> tuple[Webhook, str]:
        """A webhook for `business` (None: the operator); returns it and its secret."""
        checked = _check_url(url)
        secret = new_secret()
        with self.core.transaction() as db:
            owner = None if business is None else self._directory.get_business(business).id
            cur = db.execute(
                "INSERT INTO webhooks (business_id, url, secret, created_at) VALUES (?, ?, ?, ?)",
                (owner, checked, secret, to_ts(now)),
            )
            hook = self.get(int(cur.lastrowid or 0))
        return hook, secret

    def get(self, webhook_id: int) -> Webhook:
        """One webhook; `NotFound` otherwise."""
        with self.core.transaction(write=False) as db:
            row = db.conn.execute(_LIST_SQL + " WHERE w.id = ?", (webhook_id,)).fetchone()
        if row is None:
            raise NotFound(f"no webhook {webhook_id}")
        return _webhook(row)

    def list(self, business: int | str | None = None, *, removed: bool = False) -> list[Webhook]:
        """Webhooks (of one business when given), oldest first; removed ones on request."""
        sql, params = _LIST_SQL + " WHERE 1 = 1", []
        if business is not None:
            sql += " AND w.business_id = ?"
            params.append(self._directory.get_business(business).id)
        if not removed:
            sql += " AND w.removed_at IS NULL"
        with self.core.transaction(write=False) as db:
            rows = db.conn.execute(sql + " ORDER BY w.id", params).fetchall()
        return [_webhook(r) for r in rows]

    def remove(self, webhook_id: int, *, now: datetime) -> Webhook:
        """Stop delivering to a webhook (its history stays)."""
        with self.core.transaction() as db:
            cur = db.execute(
                "UPDATE webhooks SET removed_at = ? WHERE id = ? AND removed_at IS NULL",
                (to_ts(now), webhook_id),
            )
            if cur.rowcount != 1:
                raise NotFound(f"no webhook {webhook_id} (or removed already)")
            return self.get(webhook_id)

    def retry(self, webhook_id: int, *, now: datetime) -> int:
        """Queue a webhook's parked (failed) deliveries again, due now; returns how many."""
        with self.core.transaction() as db:
            hook = self.get(webhook_id)
            if hook.removed_at is not None:
                raise InvalidInput(f"webhook {webhook_id} was removed")
            stamp = to_ts(now)
            cur = db.execute(
                "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = ?,"
                " window_start = ?, attempts = 0 WHERE webhook_id = ? AND state = 'failed'",
                (stamp, stamp, webhook_id),
            )
            return cur.rowcount
