"""The SIM balance, read by USSD by each modem's worker and recorded in ``store.balances``.

The worker asks when the last reading is older than ``[modem] balance_interval_hours``, or
when ``smsd modem balance --refresh`` left a request row in the database (the CLI cannot
reach the port while the daemon owns it, and the daemon has no network of its own: the
database is the channel). A reading under ``[modem] balance_low`` is logged as
``balance_low`` (a prepaid SIM that runs dry silently stops every reply); `smsd modem status`
shows the last reading. Requests are looked up when the daemon sees another process write
to the database (it wakes the workers), at most once a second, only while idle.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import structlog

from modem.errors import UssdError
from modem.modem import Modem
from modem.ussd import ask
from smsd.settings import BalanceSettings
from store.balances import Balances
from store.events import emit

__all__ = ["BalanceKeeper"]

log = structlog.get_logger()
_POLL_S = 1.0  # how often an idle worker looks for refresh requests
_FAILED_RETRY = timedelta(minutes=30)  # after a failed reading, before the next scheduled one


class BalanceKeeper:
    """Decides when one modem's balance is due and reads it."""

    def __init__(
        self,
        balances: Balances,
        settings: BalanceSettings,
        modem_name: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.balances, self.settings, self.name, self.clock = balances, settings, modem_name, clock
        self._next_poll = 0.0
        self._due_at: datetime | None = None  # None: read the store to find out

    def poke(self) -> None:
        """Something was written to the database (maybe a refresh request): look at once."""
        self._next_poll = 0.0

    def check(self, modem: Modem) -> bool:
        """Read the balance if it is due or asked for; True if a USSD request was made."""
        now_mono = time.monotonic()
        if now_mono < self._next_poll:
            return False
        self._next_poll = now_mono + _POLL_S
        requests = self.balances.pending(self.name)
        now = self.clock()
        scheduled = self.settings.ussd is not None and now >= self._scheduled_at()
        if not requests and not scheduled:
            return False
        self.read(modem, requests)
        return True

    def _scheduled_at(self) -> datetime:
        if self._due_at is None:
            last = self.balances.latest().get(self.name)
            interval = timedelta(hours=self.settings.interval_hours)
            self._due_at = datetime.min.replace(tzinfo=UTC) if last is None else last.at + interval
        return self._due_at

    def seconds_until_due(self) -> float:
        """How long an idle worker may sleep before the next scheduled reading."""
        if self.settings.ussd is None:
            return 3600.0
        left = (self._scheduled_at() - self.clock()).total_seconds()
        return max(left, self._next_poll - time.monotonic(), 0.0)

    def read(self, modem: Modem, requests: list[int]) -> None:
        """One USSD reading, recorded (with the error when it fails), answering ``requests``."""
        code = self.settings.ussd
        now = self.clock()
        if code is None:
            self.balances.record_balance(
                self.name, at=now, text=None, amount=None, currency=None,
                error="no [modem] balance_ussd configured", answers=requests,
            )  # fmt: skip
            return
        try:
            answer = ask(modem, code)
        except UssdError as exc:
            self.balances.record_balance(
                self.name, at=now, text=None, amount=None, currency=None, error=str(exc),
                answers=requests,
            )  # fmt: skip
            self._due_at = now + _FAILED_RETRY
            log.warning("balance_unread", modem=self.name, error=str(exc))
            return
        low = self.settings.low
        is_low = low is not None and answer.amount is not None and answer.amount < low
        with self.balances.core.transaction():  # the reading and its balance.low event at once
            self.balances.record_balance(
                self.name, at=now, text=answer.text, amount=answer.amount,
                currency=answer.currency, answers=requests,
            )  # fmt: skip
            if is_low:
                emit(self.balances.core, "balance.low", None, {
                    "modem": self.name, "amount": str(answer.amount),
                    "currency": answer.currency, "low": str(low), "at": now.isoformat(),
                })  # fmt: skip
        self._due_at = now + timedelta(hours=self.settings.interval_hours)
        if is_low:
            log.warning("balance_low", modem=self.name, amount=str(answer.amount), low=str(low))
        else:
            log.info("balance_read", modem=self.name, amount=str(answer.amount))
