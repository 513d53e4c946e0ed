"""The store alarm: what the daemon does when the database refuses a write.

A write can fail for reasons that pass: another process holds a long write transaction
(``database is locked`` after the busy timeout) or the disk is full. Either way the rule is
the same: take nothing more off the modems (an SMS that is not committed stays on the SIM,
where the network and the SIM keep it), raise an alarm in the log and in systemd's STATUS,
and retry with back-off until a write succeeds again.

The alarm is shared by every worker; the first failure logs ``store_alarm_raised`` at error
level, the write that succeeds afterwards logs ``store_alarm_cleared``.

Test knob (see docs/FAULTS.md): when ``SMSD_TEST_DB_MAX_PAGES_FILE`` names a file,
the daemon reads an integer from it once a second and applies it as SQLite's
``PRAGMA max_page_count`` on its own connection. A limit at or below the current size makes
every write that needs a new page fail with ``database or disk is full`` - the same error a
full file system gives - without root or a tiny file system. Raising the number is "space
returned".
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import structlog

from store.store import Store

__all__ = ["PAGE_LIMIT_ENV", "PageLimitKnob", "StoreGuard"]

log = structlog.get_logger()
PAGE_LIMIT_ENV = "SMSD_TEST_DB_MAX_PAGES_FILE"


class StoreGuard:
    """Shared alarm state plus the retry back-off after a refused write."""

    def __init__(self, retry_initial: float = 0.5, retry_max: float = 10.0) -> None:
        self.retry_initial = retry_initial
        self.retry_max = retry_max
        self._lock = threading.Lock()
        self._alarm: str | None = None
        self._since = 0.0
        self._delay = retry_initial

    @property
    def alarm(self) -> str | None:
        """The error of the refused write while the alarm is raised, else ``None``."""
        return self._alarm

    def failed(self, who: str, error: BaseException) -> float:
        """Record a refused write by ``who``; return seconds to wait before retrying."""
        with self._lock:
            text = str(error) or type(error).__name__
            if self._alarm is None:
                self._since = time.monotonic()
                log.error("store_alarm_raised", by=who, error=text)
            else:
                log.warning("store_write_refused", by=who, error=text)
            self._alarm = text
            delay = self._delay
            self._delay = min(self._delay * 2, self.retry_max)
            return delay

    def succeeded(self, who: str) -> None:
        """A write went through: clear the alarm (if raised) and reset the back-off."""
        with self._lock:
            if self._alarm is None:
                return
            log.warning(
                "store_alarm_cleared", by=who, lasted_s=round(time.monotonic() - self._since, 1)
            )
            self._alarm = None
            self._delay = self.retry_initial

    def status(self) -> str:
        """A fragment for the STATUS line ("" when all is well)."""
        alarm = self._alarm
        return "" if alarm is None else f", ALARM database refuses writes: {alarm}"


class PageLimitKnob:
    """Applies ``PRAGMA max_page_count`` from the file named by ``$SMSD_TEST_DB_MAX_PAGES_FILE``."""

    def __init__(self, store: Store, path: str | None) -> None:
        self.store = store
        self.path = Path(path) if path else None
        self._applied: int | None = None

    @classmethod
    def from_env(cls, store: Store) -> PageLimitKnob:
        """A knob that does nothing unless the environment variable is set."""
        return cls(store, os.environ.get(PAGE_LIMIT_ENV) or None)

    def poll(self) -> None:
        """Apply the file's number if it changed (a missing or bad file changes nothing)."""
        if self.path is None:
            return
        try:
            pages = int(self.path.read_text().strip())
        except (OSError, ValueError):
            return
        if pages != self._applied:
            self._applied = pages
            effective = self.store.limit_pages(pages)
            log.warning("db_page_limit_applied", requested=pages, effective=effective)
