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
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import structlog

from smsd.integrations.settings import IntegrationSettings
from smsd.integrations.signing import headers
from store.base import StoreBase
from store.events import Delivery, Events, Outcome

__all__ = ["Deliverer", "DeliveryStats", "next_attempt"]

log = structlog.get_logger(__name__)

_ERROR_MAX = 200


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
    turns: int = 0
    last_error: str | None = field(default=None, repr=False)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Deliverer:
    """Delivers due webhook events until `stop` is set."""

    def __init__(
        self,
        core: StoreBase,
        settings: IntegrationSettings | None = None,
        *,
        clock: Callable[[], datetime] = _utcnow,
        rng: random.Random | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.events = Events(core)
        self.settings = settings or IntegrationSettings()
        self.clock = clock
        self.rng = rng or random.Random()
        self.stats = DeliveryStats()
        self._transport = transport
        self._inflight: dict[int, asyncio.Task[Outcome]] = {}
        self._done: list[Outcome] = []
        self._last_prune: datetime | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; then wait for attempts in flight and record them."""
        s = self.settings
        limits = httpx.Limits(
            max_connections=s.concurrency, max_keepalive_connections=s.concurrency
        )
        async with httpx.AsyncClient(
            timeout=s.timeout_s, limits=limits, follow_redirects=False, transport=self._transport
        ) as client:
            log.info("webhook_deliverer_started", concurrency=s.concurrency)
            stopper = asyncio.create_task(stop.wait())
            try:
                while not stop.is_set():
                    started = await self._start_due(client)
                    finished = await self._flush()
                    await self._prune()
                    if not started and not finished:
                        await asyncio.wait(
                            [stopper, *self._inflight.values()],
                            timeout=s.poll_s,
                            return_when=asyncio.FIRST_COMPLETED,
                        )
                if self._inflight:
                    await asyncio.wait(list(self._inflight.values()), timeout=s.timeout_s + 1)
                await self._flush()
            finally:
                stopper.cancel()
                for task in self._inflight.values():
                    task.cancel()
            log.info("webhook_deliverer_stopped", delivered=self.stats.delivered)

    async def _start_due(self, client: httpx.AsyncClient) -> int:
        free = self.settings.concurrency - len(self._inflight)
        if free <= 0:
            return 0
        busy = set(self._inflight)
        due = await asyncio.to_thread(self.events.due, self.clock(), limit=free, busy=busy)
        for delivery in due:
            task = asyncio.create_task(self._attempt(client, delivery))
            task.add_done_callback(self._collect)
            self._inflight[delivery.id] = task
        return len(due)

    def _collect(self, task: asyncio.Task[Outcome]) -> None:
        if not task.cancelled() and task.exception() is None:
            self._done.append(task.result())

    async def _flush(self) -> int:
        done, self._done = self._done, []
        if not done:
            return 0
        self.stats.turns += 1
        await asyncio.to_thread(self.events.record, done, self.clock())
        for outcome in done:
            self._inflight.pop(outcome.delivery_id, None)
        return len(done)

    async def _attempt(self, client: httpx.AsyncClient, delivery: Delivery) -> Outcome:
        body = delivery.body()
        now = self.clock()
        sent = headers(delivery.secret, "msg_" + delivery.event_uid, int(now.timestamp()), body)
        self.stats.attempts += 1
        status: int | None = None
        try:
            response = await client.post(delivery.url, content=body, headers=sent)
            status = response.status_code
            if 200 <= status < 300:
                self.stats.delivered += 1
                return Outcome(delivery.id, True, status)
            error = f"HTTP {status}"
        except Exception as exc:  # a refused connection or a bad URL must not stop the loop
            error = f"{type(exc).__name__}: {exc}"[:_ERROR_MAX]
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
