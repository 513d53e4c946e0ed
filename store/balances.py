"""SIM balances per modem (read by USSD) and requests for a fresh reading (`store.balances`).

The daemon owns the serial ports and has no network of its own, so `smsd modem balance`
talks to it through the database: it reads the last balance the daemon recorded, and
``--refresh`` adds a row to ``balance_requests`` that the daemon's worker for that modem (or
any modem, when none is named) answers at its next wake-up by recording a balance and
linking it to the request.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from store.base import Part, to_ts
from store.models_inbox import Balance

__all__ = ["Balances"]


def _balance(row: dict[str, Any]) -> Balance:
    return Balance(
        id=row["id"],
        modem=row["modem"],
        at=datetime.fromisoformat(row["at"]),
        text=row["text"],
        amount=Decimal(row["amount"]) if row["amount"] is not None else None,
        currency=row["currency"],
        error=row["error"],
    )


class Balances(Part):
    """Balances and refresh requests (`store.balances`)."""

    def record_balance(
        self,
        modem: str,
        *,
        at: datetime,
        text: str | None,
        amount: Decimal | None,
        currency: str | None,
        error: str | None = None,
        answers: list[int] | None = None,
    ) -> int:
        """Keep one reading (or the error instead of one); link the requests it answers."""
        with self.core.transaction() as db:
            cursor = db.execute(
                "INSERT INTO modem_balances (modem, at, text, amount, currency, error)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (modem, to_ts(at), text, None if amount is None else str(amount), currency, error),
            )
            balance_id = int(cursor.lastrowid or 0)
            for request_id in answers or []:
                db.execute(
                    "UPDATE balance_requests SET balance_id = ?"
                    " WHERE id = ? AND balance_id IS NULL",
                    (balance_id, request_id),
                )
        return balance_id

    def latest(self) -> dict[str, Balance]:
        """The last reading (or failed attempt) per modem."""
        rows = self._rows(
            "SELECT * FROM modem_balances WHERE id IN"
            " (SELECT max(id) FROM modem_balances GROUP BY modem) ORDER BY modem"
        )
        return {row["modem"]: _balance(row) for row in rows}

    def last_success(self, modem: str) -> Balance | None:
        """The last reading of ``modem`` that has an answer."""
        row = self._one(
            "SELECT * FROM modem_balances WHERE modem = ? AND error IS NULL"
            " ORDER BY id DESC LIMIT 1",
            (modem,),
        )
        return _balance(row) if row else None

    def request(self, modem: str | None, now: datetime) -> int:
        """Ask the daemon for a fresh reading (of ``modem``, or of whichever modem takes it)."""
        cursor = self._execute(
            "INSERT INTO balance_requests (modem, requested_at) VALUES (?, ?)",
            (modem, to_ts(now)),
        )
        return int(cursor.lastrowid or 0)

    def pending(self, modem: str) -> list[int]:
        """Open requests ``modem`` should answer (its own and those naming no modem)."""
        rows = self._rows(
            "SELECT id FROM balance_requests WHERE balance_id IS NULL"
            " AND (modem IS NULL OR modem = ?) ORDER BY id",
            (modem,),
        )
        return [int(r["id"]) for r in rows]

    def answer(self, request_id: int) -> Balance | None:
        """The reading that answered ``request_id``, None while it is open."""
        row = self._one(
            "SELECT b.* FROM balance_requests r JOIN modem_balances b ON b.id = r.balance_id"
            " WHERE r.id = ?",
            (request_id,),
        )
        return _balance(row) if row else None
