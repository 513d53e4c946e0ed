"""The webhook deliverer: an asyncio task in `smsd web` that empties the delivery queue.

Each pending delivery that is due is POSTed with the Standard Webhooks headers; a 2xx answer
marks it delivered, anything else (status, timeout, refused connection) schedules the next
attempt: `retry_base_s` x 2^(attempts-1) x jitter(1..1.5) later (5-7.5 s after the first try
by default), never past `max_age_h` after the event, when it is parked as 'failed' (visible in
`smsd webhook list`, queued again by `smsd webhook retry`). The same `webhook-id` (the event's
uid) goes with every attempt; the timestamp and signature are fresh each time.

Up to `concurrency` attempts run at once; finished ones are written in one transaction per
loop turn, and a delivery leaves the in-flight set only once its outcome is committed, so the
queue never hands it out twice. A process killed mid-attempt leaves it 'pending': the next
process sends it again (at least once). One process delivers per database.
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import structlog

from smsd.integrations.poster import Poster, PostError
from smsd.integrations.settings import IntegrationSettings
from smsd.integrations.signing import headers
from store.events import Delivery, Outcome
from store.store import Store

__all__ = ["Deliverer", "DeliveryStats", "next_attempt"]

log = structlog.get_logger(__name__)

_ERROR_MAX = 200
_FLUSH_S = 0.05  # finished attempts are committed at least this often...
_FLUSH_AT = 200  # ...or as soon as this many are waiting


def next_attempt(
    delivery: Delivery,
    now: datetime,
    settings: IntegrationSettings,
    rng: random.Random,
) -> datetime | None:
    """When to try `delivery` again after its attempt number `attempts + 1` failed (None: park).

    The last try is made at the end of the window rather than skipped.
    """
    attempt = delivery.attempts + 1
    delay = settings.retry_base_s * 2 ** min(attempt - 1, 40) * rng.uniform(1.0, 1.5)
    deadline = delivery.window_start + timedelta(hours=settings.max_age_h)
    if now >= deadline:
        return None
    return min(now + timedelta(seconds=delay), deadline)


@dataclass
class DeliveryStats:
    """What this process did (for logs and tests): attempts, successes, failures, parked."""

    attempts: int = 0
    delivered: int = 0
    failed_attempts: int = 0
    parked: int = 0
    turns: int = 0  # batches of outcomes committed
    looks: int = 0  # times the queue was looked at
    last_error: str | None = field(default=None, repr=False)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Deliverer:
    """Delivers due webhook events until `stop` is set."""

    def __init__(
        self,
        store: Store,
        settings: IntegrationSettings | None = None,
        *,
        clock: Callable[[], datetime] = _utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self.events = store.events
        self.settings = settings or IntegrationSettings()
        self.clock = clock
        self.rng = rng or random.Random()
        self.stats = DeliveryStats()
        self._running: dict[int, asyncio.Task[Outcome]] = {}
        self._done: list[Outcome] = []  # finished, not yet committed (still busy)
        self._more = False  # the last look at the queue filled every free slot
        self._last_query = self._last_flush = float("-inf")
        self._last_prune: datetime | None = None
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._lease_checked = float("-inf")
        self._leased_now = False

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; then wait for attempts in flight and record them."""
        s = self.settings
        client = Poster(s.timeout_s)
        try:
            log.info("webhook_deliverer_started", concurrency=s.concurrency)
            stopper = asyncio.create_task(stop.wait())
            try:
                while not stop.is_set():
                    await self._turn(client, stopper)
                if self._running:
                    await asyncio.wait(list(self._running.values()), timeout=s.timeout_s + 1)
                await self._flush()
            finally:
                stopper.cancel()
                for task in self._running.values():
                    task.cancel()
            log.info("webhook_deliverer_stopped", delivered=self.stats.delivered)
        finally:
            await client.aclose()
            if self._leased_now:
                await asyncio.to_thread(self.events.release_lease, self.holder)

    async def _leased(self) -> bool:
        """Whether this process holds the delivery lease (renewed every third of its life)."""
        now = time.monotonic()
        if now - self._lease_checked >= self.settings.lease_s / 3:
            self._lease_checked = now
            ttl = timedelta(seconds=self.settings.lease_s)
            held = await asyncio.to_thread(self.events.hold_lease, self.holder, self.clock(), ttl)
            if held != self._leased_now:
                log.info("webhook_lease_changed", held=held)
            self._leased_now = held
        return self._leased_now

    async def _turn(self, client: Poster, stopper: asyncio.Task[bool]) -> None:
        """Start what is due (when half the slots are free), record outcomes in batches.

        The lease is asked for only when something is due, so an idle deliverer only reads.
        """
        s, now = self.settings, time.monotonic()
        if len(self._running) <= s.concurrency // 2 and (
            self._more or now - self._last_query >= s.poll_s
        ):
            self._last_query = now
            self.stats.looks += 1
            if await self._work_waiting() and await self._leased():
                await self._start_due(client)
            else:
                self._more = False
        flush_due = now - self._last_flush >= _FLUSH_S or len(self._done) >= _FLUSH_AT
        if self._done and (flush_due or not self._running):
            await self._flush()
            await self._prune()
            return
        if self._more and len(self._running) <= s.concurrency // 2:
            return
        await asyncio.wait(
            [stopper, *self._running.values()],
            timeout=_FLUSH_S if self._done else s.poll_s,
            return_when=asyncio.FIRST_COMPLETED,
        )

    async def _work_waiting(self) -> bool:
        if self._more:
            return True
        due = await asyncio.to_thread(self.events.next_due_at)
        return due is not None and due <= self.clock()

    async def _start_due(self, client: Poster) -> int:
        free = self.settings.concurrency - len(self._running)
        busy = set(self._running) | {o.delivery_id for o in self._done}
        due = await asyncio.to_thread(self.events.due, self.clock(), limit=free, busy=busy)
        self._more = len(due) == free
        for delivery in due:
            task = asyncio.create_task(self._attempt(client, delivery))
            task.add_done_callback(self._collect)
            self._running[delivery.id] = task
        return len(due)

    def _collect(self, task: asyncio.Task[Outcome]) -> None:
        if task.cancelled():
            return
        outcome = task.result()  # _attempt turns every error into an Outcome
        self._running.pop(outcome.delivery_id, None)
        self._done.append(outcome)

    async def _flush(self) -> int:
        """Commit the finished attempts in one transaction; only then are they not busy."""
        self._last_flush = time.monotonic()
        if not self._done:
            return 0
        done = list(self._done)
        self.stats.turns += 1
        await asyncio.to_thread(self.events.record, done, self.clock())
        del self._done[: len(done)]
        return len(done)

    async def _attempt(self, client: Poster, delivery: Delivery) -> Outcome:
        body = delivery.body()
        now = self.clock()
        sent = headers(delivery.secret, "msg_" + delivery.event_uid, int(now.timestamp()), body)
        self.stats.attempts += 1
        status: int | None = None
        try:
            status = await client.post(delivery.url, body, sent)
            if 200 <= status < 300:
                self.stats.delivered += 1
                return Outcome(delivery.id, True, status)
            error = f"HTTP {status}"
        except PostError as exc:
            error = str(exc)[:_ERROR_MAX]
        except Exception as exc:  # a bug must cost one attempt, never the deliverer
            log.exception("webhook_attempt_crashed", delivery=delivery.id)
            error = type(exc).__name__
        self.stats.failed_attempts += 1
        self.stats.last_error = error
        again = next_attempt(delivery, self.clock(), self.settings, self.rng)
        if again is None:
            self.stats.parked += 1
            log.warning("webhook_delivery_parked", delivery=delivery.id, kind=delivery.kind)
        else:
            log.info("webhook_delivery_failed", delivery=delivery.id, status=status, error=error)
        return Outcome(delivery.id, False, status, error, again)

    async def _prune(self) -> None:
        now = self.clock()
        if self._last_prune is not None and now - self._last_prune < timedelta(hours=1):
            return
        self._last_prune = now
        before = now - timedelta(days=self.settings.keep_days)
        pruned = await asyncio.to_thread(self.events.prune, before)
        if pruned:
            log.info("webhook_events_pruned", count=pruned)
