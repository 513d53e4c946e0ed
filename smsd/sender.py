"""Sending from the transactional outbox, with retries, back-off and a validity limit.

A message is claimed (state ``sending``), encoded into PDUs, sent part by part under the
modem's lock, and marked ``sent`` with the message reference of its last part. A temporary
failure (network busy, timeout, +CMS 500/512...) puts it back in the queue: the first retry
within a few seconds (most temporary errors are a congested cell for a moment), then
exponential back-off with jitter up to the ceiling; a permanent one (invalid number,
barred) fails it with the reason; a message older than the validity limit fails as
``expired``. A crash between claim and ``mark_sent`` leaves it ``sending``: the daemon
requeues such claims on start, which is the one duplicate we allow per crash. The claim is a
lease: renewed before each further part of a multipart message, so on a shared store another
host requeues it only after a whole ``[outgoing] claim_timeout_s`` without progress; a send
whose row was requeued meanwhile stops before its next part.

If the store refuses ``mark_sent`` (locked, disk full) after the modem accepted the message,
the result is kept in memory and written before anything else is claimed: without a crash
the message is not sent twice. The store error still reaches the worker, which raises the
store alarm (:mod:`smsd.diskguard`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from datetime import UTC, datetime, timedelta

import structlog

from modem.errors import AtError, CmsError, ModemTimeout, PduError, PortClosed
from modem.modem import Modem
from modem.pdu import encode_submit
from smsd.settings import RetryPolicy
from store.errors import StoreError
from store.outbox import Outbox

__all__ = ["PERMANENT_CMS", "Sender"]

log = structlog.get_logger()

# +CMS ERROR codes that will not get better by retrying (3GPP TS 24.011 / 27.005).
PERMANENT_CMS = frozenset(
    {1, 8, 10, 21, 27, 28, 29, 30, 38, 50, 96, 97, 98, 99, 111, 127, 304, 305}
)


class Sender:
    """Claims due outgoing messages for one modem at a time and sends them."""

    def __init__(
        self,
        outbox: Outbox,
        policy: RetryPolicy | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        healthy: Callable[[], Collection[str]] | None = None,
    ) -> None:
        self.outbox = outbox  # the one part of the store a sender touches
        self.policy = policy or RetryPolicy()
        # The modems up now: a business's preferred modem gets its messages while it is up.
        self.healthy = healthy
        self.clock = clock
        self.sent_count = 0
        self._lock = threading.Lock()
        # Sends the modem accepted but the store did not record yet: (id, mr, modem, at, parts).
        self._unrecorded: list[tuple[int, int, str, datetime, int]] = []

    def send_due(self, modem: Modem, modem_name: str, stopping: threading.Event) -> bool:
        """Send one due message through ``modem``; return whether one was claimed."""
        if stopping.is_set():
            return False
        self.flush_unrecorded()
        now = self.clock()
        healthy = None if self.healthy is None else self.healthy()
        due = self.outbox.next_due_at(modem_name, healthy)
        if due is None or due > now:
            return False  # a read, not a write transaction: an idle daemon writes nothing
        out = self.outbox.claim_next_outgoing(modem_name, now, healthy)
        if out is None:
            return False
        if now - out.created_at > self.policy.validity:
            self.outbox.mark_failed(out.id, "expired: validity period passed")
            log.warning("sms_expired", outgoing_id=out.id)
            return True
        self._send(modem, modem_name, out.id, out.recipient, out.text, out.attempts)
        return True

    def seconds_until_due(self, modem_name: str) -> float:
        """Seconds until the next queued message is due (large when none is queued)."""
        healthy = None if self.healthy is None else self.healthy()
        due = self.outbox.next_due_at(modem_name, healthy)
        if due is None:
            return 3600.0
        return max(0.0, (due - self.clock()).total_seconds())

    def _send(
        self, modem: Modem, modem_name: str, out_id: int, recipient: str, text: str, attempts: int
    ) -> None:
        try:
            pdus = encode_submit(
                recipient,
                text,
                concat_reference=out_id & 0xFF,
                status_report=self.policy.status_reports,
            )
        except PduError as exc:
            self.outbox.mark_failed(out_id, f"cannot encode: {exc.reason}")
            log.warning("sms_unsendable", outgoing_id=out_id, reason=exc.reason)
            return
        try:
            mr = -1
            for index, pdu in enumerate(pdus):
                if index and not self._renew(out_id, index):
                    return  # requeued meanwhile: its new holder sends it, not us
                mr = modem.send_pdu(pdu)
        except (PortClosed, ModemTimeout) as exc:
            self._retry(out_id, attempts, f"{type(exc).__name__}: {exc}")
            raise  # the session is in doubt: let the worker probe or reconnect
        except CmsError as exc:
            if exc.code in PERMANENT_CMS:
                self.outbox.mark_failed(out_id, f"+CMS ERROR: {exc.code}")
                log.warning("sms_failed", outgoing_id=out_id, cms=exc.code)
            else:
                self._retry(out_id, attempts, f"+CMS ERROR: {exc.code}")
            return
        except AtError as exc:
            self._retry(out_id, attempts, exc.text)
            return
        self.sent_count += 1
        log.info("sms_sent", outgoing_id=out_id, modem=modem_name, parts=len(pdus), mr=mr)
        with self._lock:
            self._unrecorded.append((out_id, mr, modem_name, self.clock(), len(pdus)))
        self.flush_unrecorded()

    def _renew(self, out_id: int, part: int) -> bool:
        """Renew the claim before sending part `part` (0-based) of a multipart message; False
        when it was lost (requeued as expired: this host stalled past the claim timeout)."""
        try:
            held = self.outbox.renew_claim(out_id, self.clock())
        except StoreError as exc:  # away: send on (away for the others too, none requeues it)
            log.warning("claim_not_renewed", outgoing_id=out_id, error=str(exc))
            return True
        if not held:
            log.warning("sms_claim_lost", outgoing_id=out_id, parts_sent=part)
        return held

    def flush_unrecorded(self) -> None:
        """Write the results of sends the store refused before; StoreError if it still does."""
        with self._lock:
            while self._unrecorded:
                out_id, mr, modem_name, at, parts = self._unrecorded[0]
                try:
                    self.outbox.mark_sent(out_id, mr=mr, modem=modem_name, now=at, parts=parts)
                except StoreError:
                    pending = len(self._unrecorded)
                    log.warning("sms_sent_unrecorded", outgoing_id=out_id, pending=pending)
                    raise
                self._unrecorded.pop(0)

    def _retry(self, out_id: int, attempts: int, error: str) -> None:
        # ``attempts`` counts this one: the claim that handed us the row added it.
        if attempts >= self.policy.max_attempts:
            tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
            self.outbox.mark_failed(out_id, f"gave up after {tries}: {error}")
            log.warning("sms_failed", outgoing_id=out_id, error=error)
            return
        delay = self.policy.delay(max(attempts, 1))  # attempts: made so far, this one included
        self.outbox.retry_later(out_id, error, self.clock() + timedelta(seconds=delay))
        log.info("sms_retry_scheduled", outgoing_id=out_id, delay_s=round(delay, 1), error=error)
