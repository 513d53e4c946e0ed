"""Modems as the store knows them: the daemon's last report per modem, and preferred modems.

The daemon owns the serial ports, so `smsd modem status` cannot open one while it runs; the
daemon records what each modem said at the start of its session (and whether it is healthy)
and the CLI reads that. A business may prefer one modem for its outgoing messages (its own
SIM number, say); while that modem is down, any healthy modem sends them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from store.base import Part, StoreBase, from_ts, to_ts
from store.directory import Directory
from store.errors import InvalidInput

__all__ = ["Modems"]


class Modems(Part):
    """Modem reports and preferences (`store.modems`)."""

    def __init__(self, core: StoreBase, directory: Directory) -> None:
        super().__init__(core)
        self._directory = directory

    def record_modem_status(
        self,
        name: str,
        url: str,
        *,
        healthy: bool,
        now: datetime,
        session: int | None = None,
        details: Mapping[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        """Remember what the daemon last knew of modem `name` (details kept if not given)."""
        with self.core.transaction() as db:
            db.execute(
                "INSERT INTO modem_status (name, url, healthy, updated_at, session, details, error,"
                " host) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET url = excluded.url, host = excluded.host,"
                " healthy = excluded.healthy, updated_at = excluded.updated_at,"
                " session = coalesce(excluded.session, modem_status.session),"
                " details = coalesce(excluded.details, modem_status.details),"
                " error = excluded.error",
                (
                    name,
                    url,
                    int(healthy),
                    to_ts(now),
                    session,
                    None if details is None else json.dumps(dict(details), sort_keys=True),
                    error,
                    self.core.host,
                ),
            )

    def modem_statuses(self) -> list[dict[str, Any]]:
        """Every modem the daemon reported on, by name, with its details as a dict."""
        rows = self._rows("SELECT * FROM modem_status ORDER BY name")
        return [
            {
                "name": r["name"],
                "host": r["host"],
                "url": r["url"],
                "healthy": bool(r["healthy"]),
                "updated_at": from_ts(r["updated_at"]),
                "session": r["session"],
                "error": r["error"],
                **(json.loads(r["details"]) if r["details"] else {}),
            }
            for r in rows
        ]

    def heartbeat(self, now: datetime) -> None:
        """Say this host is alive (several hosts on one store: see `remote_healthy`)."""
        self._execute(
            "INSERT INTO gateway_hosts (host, seen_at) VALUES (?, ?)"
            " ON CONFLICT (host) DO UPDATE SET seen_at = excluded.seen_at",
            (self.core.host, to_ts(now)),
        )

    def remote_healthy(self, now: datetime, within: timedelta) -> set[str]:
        """Healthy modems of the other hosts that were alive within `within` of `now`.

        A business may prefer a modem on another host: while that host is alive and its
        modem up, this host leaves the business's messages to it.
        """
        rows = self._rows(
            "SELECT m.name FROM modem_status m JOIN gateway_hosts h ON h.host = m.host"
            " WHERE m.healthy = 1 AND m.host != ? AND h.seen_at >= ?",
            (self.core.host, to_ts(now - within)),
        )
        return {str(r["name"]) for r in rows}

    def set_business_modem(self, business: int | str, modem: str | None) -> None:
        """Prefer `modem` (a [[modems]] name) for `business`'s messages; None clears it."""
        if modem is not None and not modem.strip():
            raise InvalidInput("modem name must not be empty")
        with self.core.transaction() as db:
            owner = self._directory.get_business(business)
            db.execute("UPDATE businesses SET modem = ? WHERE id = ?", (modem, owner.id))

    def business_modem(self, business: int | str) -> str | None:
        """The modem `business` prefers, if any."""
        owner = self._directory.get_business(business)
        row = self._one("SELECT modem FROM businesses WHERE id = ?", (owner.id,))
        return None if row is None else row["modem"]
