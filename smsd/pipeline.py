"""Glue between the store and the router: load state, route, write the result at once.

:class:`Pipeline` is the one way in for the daemon, its ingest and the benchmarks: it holds the
store, the current rules (replaced on SIGHUP) and whether committed messages still wait for
routing, and names what can be done: record and route a burst in one transaction
(`Pipeline.burst`: the ingest's way, one commit per burst, the burst routed in a few
statements by `smsd.burst`), route these ids (`Pipeline.route`), route what is left
(`Pipeline.route_left`: at start, and once the store takes writes again), expire partial
multipart messages (`Pipeline.expire_partials`) and normalise a sender
(`Pipeline.normalize_sender`). The functions below are its steps.

Loading, routing and writing share one store transaction, so two threads handling messages
from the same new number cannot both send a user code.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import structlog

from smsd.burst import RATE_WINDOW, Outcome, Processed, plan_from, route_burst
from smsd.consent_actions import rules_state
from smsd.keywords import first_word
from smsd.numbers import SenderKind, normalize_sender
from smsd.releases import DeletedCopies
from smsd.router import (
    MarkLoop,
    State,
    lookup_word,
)
from smsd.settings import Rules
from store import Incoming, Store, StoreUnavailable
from store.errors import StoreError

__all__ = [
    "Burst",
    "DeletedCopies",
    "Pipeline",
    "Processed",
    "QueueListener",
    "Routed",
    "load_state",
    "plan_from",
    "process_expired_partials",
    "process_incoming",
    "process_many",
    "process_unrouted",
]

log = structlog.get_logger(__name__)


def load_state(store: Store, message: Incoming, now: datetime, rules: Rules) -> State:
    """Everything the router needs to know about `message`'s sender, read from the store
    (one message at a time; the pipeline reads a whole burst at once through `smsd.burst`,
    and the equivalence tests hold it to this).

    Four statements: the person with their opt-in status, the code, the code's policy and
    poll, the sender's activity; a YES also reads the codes awaiting confirmation.
    """
    person, optins = store.routing.person_and_optins(message.sender)
    word = lookup_word(message.text, rules.vocabulary)
    code = store.directory.find_code(word) if word else None
    confirming = first_word(message.text) in rules.vocabulary.start_words
    policy, poll, pending = rules_state(store, code, person, confirming=confirming)
    activity = store.routing.sender_activity(
        message.sender,
        replies_since=now - RATE_WINDOW,
        texts_since=now - rules.loop_window,
        before_id=message.id,
    )
    return State(
        person=person,
        code=code,
        optins=optins,
        replies_in_window=activity.replies,
        recent_texts=activity.recent_texts,
        loop_marked=activity.loop_marked,
        own_number=rules.own_number is not None and message.sender == rules.own_number,
        policy=policy,
        poll=poll,
        pending=pending,
    )


@dataclass(frozen=True)
class Routed:
    """The outcome of `process_many`: what was routed, and the ids whose routing raised."""

    processed: tuple[Processed, ...]
    failed: tuple[int, ...]  # rolled back alone, still 'new': `process_unrouted` retries them

    @property
    def queued(self) -> bool:
        """True when any message queued a reply."""
        return any(p.outgoing_ids for p in self.processed)


def _log_routed(outcomes: Sequence[Outcome]) -> None:
    """Logged after the commit, so a rolled-back routing is never reported as done."""
    if not outcomes:
        return
    # One logger for the lot: each call on the module's lazy `log` assembles a new one.
    bound = log.bind()
    for outcome in outcomes:
        done = outcome.processed
        if any(isinstance(a, MarkLoop) for a in done.actions):
            bound.warning(
                "loop_detected", incoming_id=done.incoming_id, sender_type=outcome.sender_type
            )
        if outcome.rate_limited:
            bound.info("reply_rate_limited", incoming_id=done.incoming_id)
        bound.info(
            "message_routed",
            incoming_id=done.incoming_id,
            actions=[type(a).__name__ for a in done.actions],
            queued=len(done.outgoing_ids),
        )


def process_incoming(
    store: Store, incoming_id: int, now: datetime, rules: Rules
) -> Processed | None:
    """Route one stored message and write the outcome; None if it is not in state 'new'."""
    with store.transaction():
        outcomes = route_burst(store, [incoming_id], now, rules)
    _log_routed(outcomes)
    return outcomes[0].processed if outcomes else None


def process_many(store: Store, ids: Sequence[int], now: datetime, rules: Rules) -> Routed:
    """Route several stored messages in ONE transaction (one fsync), as a burst (see
    `smsd.burst`): a few statements for all of them, the same rows as one at a time.

    A message whose routing raises is rolled back alone, logged and left 'new' (see
    `Routed.failed`); the others commit: the burst runs in one SAVEPOINT, and only if it
    raises is it rolled back and routed again one message at a time, each in its own
    SAVEPOINT. `StoreUnavailable` (locked, disk full, server gone) is no fault of one message:
    it abandons the whole transaction and leaves as an exception, every message still 'new'.
    Messages not in state 'new' are skipped, as in `process_incoming`.
    """
    with store.transaction():
        outcomes, failed = _route_in(store, ids, now, rules)
    _log_routed(outcomes)
    return Routed(tuple(o.processed for o in outcomes), tuple(failed))


def _route_in(
    store: Store, ids: Sequence[int], now: datetime, rules: Rules,
    known: Mapping[int, Incoming] | None = None,
) -> tuple[list[Outcome], list[int]]:  # fmt: skip
    """`process_many`'s routing inside the caller's transaction: the burst in one SAVEPOINT,
    one message at a time (each in its own) only if it raises; nothing logged yet."""
    try:
        with store.savepoint():
            return route_burst(store, ids, now, rules, known), []
    except StoreUnavailable:
        raise
    except Exception:  # some message raised: find it, keep the others
        log.warning("burst_routed_one_by_one", count=len(ids))
        return _one_by_one(store, ids, now, rules)


def _one_by_one(
    store: Store, ids: Sequence[int], now: datetime, rules: Rules
) -> tuple[list[Outcome], list[int]]:
    """Each message in its own SAVEPOINT: one that raises is rolled back alone, left 'new'."""
    outcomes: list[Outcome] = []
    failed: list[int] = []
    for incoming_id in ids:
        try:
            with store.savepoint():
                outcomes.extend(route_burst(store, [incoming_id], now, rules))
        except StoreUnavailable:
            raise
        except Exception:
            log.exception("message_routing_failed", incoming_id=incoming_id)
            failed.append(incoming_id)
    return outcomes, failed


def process_expired_partials(
    store: Store, now: datetime, rules: Rules, timeout: timedelta
) -> list[Processed]:
    """Reassemble multipart messages whose parts stopped arriving, and route them as they are."""
    done = (
        process_incoming(store, i, now, rules) for i in store.inbox.expired_partials(now, timeout)
    )
    return [p for p in done if p is not None]


def process_unrouted(store: Store, now: datetime, rules: Rules) -> list[Processed]:
    """Route every message recorded but not routed yet (after a crash), oldest first."""
    done = (process_incoming(store, i, now, rules) for i in store.inbox.unrouted())
    return [p for p in done if p is not None]


class QueueListener(Protocol):
    """Told when routing queued replies (the daemon wakes its modem workers)."""

    def replies_queued(self) -> None:
        """Replies were committed to the outbox."""


class Burst:
    """The routing half of `Pipeline.burst`, inside its transaction (no commit, no logs)."""

    def __init__(self, store: Store, now: datetime, rules: Rules) -> None:
        self.store = store
        self.now = now
        self.rules = rules
        self.outcomes: list[Outcome] = []
        self.failed: list[int] = []

    def route(self, ids: Sequence[int], known: Mapping[int, Incoming] | None = None) -> None:
        """Route these recorded messages as `process_many` does: each message whose routing
        raises is rolled back alone and left 'new' (`failed`); `StoreUnavailable` is raised.
        `known`: the messages as just recorded (`Inbox.record_and_read`): not read again."""
        if ids:
            outcomes, failed = _route_in(self.store, ids, self.now, self.rules, known)
            self.outcomes += outcomes
            self.failed += failed

    @property
    def routed(self) -> Routed:
        """What was routed so far, and the ids whose routing raised."""
        return Routed(tuple(o.processed for o in self.outcomes), tuple(self.failed))


class Pipeline:
    """Routing as one object: the store, the current rules, and what still waits for routing.

    Used from the workers' threads and the daemon's main thread; `reload` swaps the rules in
    one assignment, so a message is routed with either the old rules or the new ones.
    """

    def __init__(
        self,
        store: Store,
        rules: Rules,
        *,
        default_region: str = "GB",
        partial_timeout: timedelta = timedelta(hours=1),
        listener: QueueListener | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self._rules = rules
        self.default_region = default_region
        self.partial_timeout = partial_timeout
        self.listener = listener
        self.clock = clock
        self._unrouted = threading.Event()

    @property
    def rules(self) -> Rules:
        """The rules messages are routed with now."""
        return self._rules

    def reload(self, rules: Rules) -> None:
        """Route with `rules` from now on (SIGHUP)."""
        self._rules = rules

    @property
    def unrouted(self) -> bool:
        """Whether committed messages wait for routing (the store refused it): `route_left`."""
        return self._unrouted.is_set()

    def mark_unrouted(self) -> None:
        """Committed messages could not be routed yet (a store or modem error after the commit)."""
        self._unrouted.set()

    def normalize_sender(self, raw: str, ton: int | None) -> tuple[str, SenderKind]:
        """(address, kind) of a sender or recipient as a PDU gives it: E.164 for numbers."""
        return normalize_sender(
            raw, ton, self.default_region, short_code_max_len=self._rules.short_code_max_len
        )

    def route(self, ids: Sequence[int]) -> Routed:
        """Route stored messages in ONE commit (see `process_many`).

        A `StoreError` leaves the messages 'new' and `unrouted` set, and is raised.
        """
        try:
            routed = process_many(self.store, ids, self.clock(), self._rules)
        except StoreError:
            self.mark_unrouted()
            raise
        self._notify(routed.processed)
        return routed

    @contextmanager
    def burst(self, release: Sequence[DeletedCopies] = ()) -> Iterator[Burst]:
        """ONE transaction for a burst: release the keys of `release` (copies deleted since
        the last burst), then the caller's block records the burst and routes it with
        `Burst.route`; one commit (one fsync) for all three. Logged and the listener woken
        only after that commit.

        The keys are released BEFORE the block records anything, so a copy recorded in this
        transaction is never released with them (see `smsd.ingest`). An exception from the
        block rolls back everything, releases included; a `StoreError` leaves as it is.
        """
        burst = Burst(self.store, self.clock(), self._rules)
        with self.store.transaction():
            for copies in release:
                self.store.inbox.release_locations(copies.modem, copies.storage, copies.indexes)
            yield burst
        _log_routed(burst.outcomes)
        self._notify([o.processed for o in burst.outcomes])

    def route_left(self) -> list[Processed]:
        """Route every message recorded but not routed yet, oldest first (after a crash, or
        once the store takes writes again); `StoreError` sets `unrouted` again and is raised."""
        self._unrouted.clear()
        try:
            done = process_unrouted(self.store, self.clock(), self._rules)
        except StoreError:
            self.mark_unrouted()
            raise
        self._notify(done)
        return done

    def expire_partials(self) -> list[Processed]:
        """Route multipart messages whose parts stopped arriving `partial_timeout` ago, as
        they are."""
        done = process_expired_partials(self.store, self.clock(), self._rules, self.partial_timeout)
        self._notify(done)
        return done

    def _notify(self, done: Sequence[Processed]) -> None:
        if self.listener is not None and any(p.outgoing_ids for p in done):
            self.listener.replies_queued()
