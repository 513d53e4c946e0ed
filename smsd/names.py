"""Which of this host's modems may run: one host per modem name on a shared store.

Several daemons on one PostgreSQL database name their modems in one namespace (a business's
preferred modem, `smsd modem status`). `ModemNames.split` claims the names through
`store.modems.claim_names`: a modem whose name another live host holds is refused, with one
error line (`modem_name_refused`), and asked for again at each call (the daemon's health round,
every 5 s) until its holder is dead (no heartbeat within the claim timeout) and the name passes
to this host (`modem_name_claimed`).

On SQLite one daemon holds the file (`smsd run` takes a lock), so no other host can be live:
every modem runs and nothing is recorded (a renamed host keeps its modems).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

import structlog

from store.errors import StoreError
from store.store import Store

__all__ = ["ModemNames", "Named"]

log = structlog.get_logger()


class Named(Protocol):
    """Anything with a modem name (a `smsd.worker.ModemWorker`)."""

    @property
    def name(self) -> str: ...


N = TypeVar("N", bound=Named)


class ModemNames:
    """Splits this host's modems into those it may run and those another live host has."""

    def __init__(self, store: Store, alive_within: timedelta) -> None:
        self.store = store
        self.alive_within = alive_within
        self._refused: set[str] = set()  # reported once each, until claimed

    def split(self, modems: Sequence[N]) -> tuple[list[N], list[N]]:
        """(runnable, refused) among all of this host's `modems` (always pass all of them:
        names not passed are released). A store error refuses nothing new: as before."""
        if self.store.dialect == "sqlite":
            return list(modems), []
        try:
            refusals = self.store.modems.claim_names(
                [m.name for m in modems], datetime.now(UTC), self.alive_within
            )
        except StoreError as exc:
            log.warning("modem_names_not_claimed", error=str(exc))
            return [m for m in modems if m.name not in self._refused], [
                m for m in modems if m.name in self._refused
            ]
        refused = {r.name: r for r in refusals}
        for name in sorted(set(refused) - self._refused):
            r = refused[name]
            log.error("modem_name_refused", modem=name, holder=r.holder, error=r.line())
        for name in sorted(self._refused - set(refused)):
            log.info("modem_name_claimed", modem=name)
        self._refused = set(refused)
        return [m for m in modems if m.name not in refused], [
            m for m in modems if m.name in refused
        ]
