"""Modems as the store knows them: the daemon's last report per modem, and preferred modems.

The daemon owns the serial ports, so `smsd modem status` cannot open one while it runs; the
daemon records what each modem said at the start of its session (and whether it is healthy)
and the CLI reads that. A business may prefer one modem for its outgoing messages (its own
SIM number, say); while that modem is down, any healthy modem sends them.

Several hosts on one store: a modem name belongs to one host at a time (`modem_claims`), since
a business's preferred modem and the status rows name modems. `claim_names` (the daemon, at
start and every few seconds while a name is refused) takes each name this host runs unless
another *live* host holds it: one whose heartbeat (`gateway_hosts`) is newer than
`alive_within` (the daemon passes `[outgoing] claim_timeout_s`). The same host restarting keeps
its names; a dead host's names pass to the next host that asks. A refusal is recorded
(`modem_refusals`) for `smsd modem status` and `doctor` to show.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from store.base import Part, StoreBase, from_ts, to_ts
from store.directory import Directory
from store.errors import InvalidInput
from store.logger import get_logger

__all__ = ["Modems", "NameRefusal"]

log = get_logger(__name__)


@dataclass(frozen=True)
class NameRefusal:
    """Modem `name` refused to `host`: live host `holder` (heartbeat `holder_seen_at`) has it."""

    name: str
    host: str
    holder: str
    holder_seen_at: datetime
    at: datetime

    def line(self) -> str:
        """The one error line: what is wrong and what to do."""
        return (
            f"modem name {self.name!r} refused on host {self.host!r}: live host"
            f" {self.holder!r} runs a modem of that name; rename one in [[modems]]"
            " (names are unique across hosts) or stop it there"
        )


_HOLDERS_SQL = (
    "SELECT c.name, c.host, h.seen_at FROM modem_claims c JOIN gateway_hosts h ON h.host = c.host"
    " WHERE c.name IN (SELECT value FROM json_each(?)) AND c.host != ? AND h.seen_at >= ?"
)


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

    def claim_names(
        self, names: Collection[str], now: datetime, alive_within: timedelta
    ) -> list[NameRefusal]:
        """Claim `names` for this host (and say it is alive); return the names refused.

        One write transaction: names another live host holds are refused (and recorded),
        every other name is this host's from now on; names this host held but no longer
        runs are released, and its earlier refusals forgotten.
        """
        wanted = json.dumps(sorted(names))
        stamp = to_ts(now)
        with self.core.transaction() as db:
            self.heartbeat(now)
            held = self.name_holders(names, self.core.host, now, alive_within)
            db.execute(
                "DELETE FROM modem_claims WHERE host = ?"
                " AND name NOT IN (SELECT value FROM json_each(?))",
                (self.core.host, wanted),
            )
            db.execute("DELETE FROM modem_refusals WHERE host = ?", (self.core.host,))
            refused = []
            for name in sorted(names):
                if name in held:
                    holder, seen = held[name]
                    refused.append(NameRefusal(name, self.core.host, holder, seen, now))
                    db.execute(
                        "INSERT INTO modem_refusals (name, host, holder, at) VALUES (?, ?, ?, ?)",
                        (name, self.core.host, holder, stamp),
                    )
                    continue
                self._take(name, stamp)
        return refused

    def _take(self, name: str, stamp: str) -> None:
        """Hold `name` for this host (inside `claim_names`' transaction)."""
        with self.core.transaction() as db:
            row = db.execute("SELECT host FROM modem_claims WHERE name = ?", (name,)).fetchone()
            if row is not None and row[0] != self.core.host:
                log.warning("modem_name_taken_over", modem=name, previous_host=row[0])
            db.execute(
                "INSERT INTO modem_claims (name, host, claimed_at) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET host = excluded.host,"
                " claimed_at = excluded.claimed_at",
                (name, self.core.host, stamp),
            )

    def name_holders(
        self, names: Collection[str], host: str, now: datetime, alive_within: timedelta
    ) -> dict[str, tuple[str, datetime]]:
        """Of `names`, those another live host than `host` holds: name -> (holder, seen at)."""
        rows = self._rows(
            _HOLDERS_SQL, (json.dumps(sorted(names)), host, to_ts(now - alive_within))
        )
        return {str(r["name"]): (str(r["host"]), _ts(r["seen_at"])) for r in rows}

    def refusals(self, now: datetime, alive_within: timedelta) -> list[NameRefusal]:
        """Names refused to hosts still alive (a stopped host's refusals are not shown)."""
        rows = self._rows(
            "SELECT r.name, r.host, r.holder, r.at, coalesce(s.seen_at, r.at) AS seen_at"
            " FROM modem_refusals r JOIN gateway_hosts h ON h.host = r.host"
            " LEFT JOIN gateway_hosts s ON s.host = r.holder"
            " WHERE h.seen_at >= ? ORDER BY r.name, r.host",
            (to_ts(now - alive_within),),
        )
        return [
            NameRefusal(r["name"], r["host"], r["holder"], _ts(r["seen_at"]), _ts(r["at"]))
            for r in rows
        ]

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


def _ts(value: str) -> datetime:
    stamp = from_ts(value)
    assert stamp is not None
    return stamp
