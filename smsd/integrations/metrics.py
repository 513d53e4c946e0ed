"""Prometheus metrics read from the database at scrape time (prometheus-client).

The daemon has no network, so nothing here lives in it: `smsd web` serves `/metrics`, and
`smsd metrics --textfile PATH` writes the same text for node_exporter's textfile collector on
hosts that run only the gateway. Message totals come from `message_counts`, kept by triggers
(migration 020), so a scrape reads a handful of rows and never counts the message tables;
gauges are read fresh. A scrape within `min_interval_s` of the last one is answered from that
one, so a busy scraper cannot load the database.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, generate_latest, write_to_textfile
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeHistogramMetricFamily,
    GaugeMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from store.base import from_ts
from store.store import Store

__all__ = [
    "LATENCY_BUCKETS",
    "GatewayCollector",
    "metrics_response",
    "registry_for",
    "write_textfile",
]

#: Route latency buckets, seconds (received -> replies queued).
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_RECENT_REPLIES = 2000
_REGISTERED = {"home", "roaming", "registered", "1", "5"}

# (queued at, received at) as stored text; the seconds between are taken in Python (one SQL
# for both backends: PostgreSQL has no julianday).
_LATENCY_SQL = (
    "SELECT o.at, i.received_at FROM"
    " (SELECT incoming_id, min(created_at) AS at FROM (SELECT incoming_id, created_at"
    "  FROM outgoing ORDER BY id DESC LIMIT ?) r WHERE incoming_id IS NOT NULL"
    "  GROUP BY incoming_id) o JOIN incoming i ON i.id = o.incoming_id"
)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class GatewayCollector(Collector):
    """Messages, outbox, modems, route latency and webhooks, from one `Store`."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], datetime] = _utcnow,
        min_interval_s: float = 5.0,
    ) -> None:
        self.store = store
        self.clock = clock
        self.min_interval_s = min_interval_s
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Metric]] | None = None

    def collect(self) -> Iterator[Metric]:
        """Every metric family (cached for `min_interval_s`)."""
        with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] >= self.min_interval_s:
                self._cached = (now, self._read())
            return iter(self._cached[1])

    def _all(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        with self.store.transaction(write=False) as db:
            return list(db.conn.execute(sql, params).fetchall())

    def _read(self) -> list[Metric]:
        now = self.clock()
        return [*self._messages(), *self._outbox(now), *self._modems(now), self._latency(),
                *self._webhooks(now)]  # fmt: skip

    def _messages(self) -> list[Metric]:
        families = {
            kind: CounterMetricFamily(f"smsd_messages_{kind}", help_text, labels=["modem"])
            for kind, help_text in (
                ("received", "Incoming messages stored (multipart counted once), per modem"),
                ("sent", "Outgoing messages accepted by a modem, per modem"),
                ("delivered", "Delivery reports saying delivered, per modem"),
                ("failed", "Outgoing messages failed (send or report), per modem"),
            )
        }
        for modem, kind, n in self._all("SELECT modem, kind, n FROM message_counts ORDER BY 1, 2"):
            family = families.get(str(kind))
            if family is not None:
                family.add_metric([str(modem)], float(str(n)))
        return list(families.values())

    def _outbox(self, now: datetime) -> list[Metric]:
        ((depth, oldest),) = self._all(
            "SELECT count(*), min(created_at) FROM outgoing WHERE state IN ('queued', 'sending')"
        )
        first = from_ts(str(oldest)) if oldest is not None else None
        age = 0.0 if first is None else max(0.0, (now - first).total_seconds())
        return [
            GaugeMetricFamily("smsd_outbox_depth", "Messages queued or sending", float(str(depth))),
            GaugeMetricFamily("smsd_outbox_oldest_age_seconds", "Age of the oldest one", age),
        ]

    def _modems(self, now: datetime) -> list[Metric]:
        up = GaugeMetricFamily("smsd_modem_up", "1 if the modem is healthy", labels=["modem"])
        signal = GaugeMetricFamily("smsd_modem_signal_dbm", "Signal in dBm", labels=["modem"])
        registered = GaugeMetricFamily(
            "smsd_modem_registered", "1 if registered (home or roaming)", labels=["modem"]
        )
        balance = GaugeMetricFamily(
            "smsd_modem_balance", "Last SIM balance read (USSD)", labels=["modem"]
        )
        age = GaugeMetricFamily(
            "smsd_modem_report_age_seconds", "Age of the daemon's last report", labels=["modem"]
        )
        for name, healthy, updated, details in self._all(
            "SELECT name, healthy, updated_at, details FROM modem_status ORDER BY name"
        ):
            label = [str(name)]
            info = json.loads(str(details)) if details else {}
            up.add_metric(label, float(bool(healthy)))
            if isinstance(info.get("signal_dbm"), int | float):
                signal.add_metric(label, float(info["signal_dbm"]))
            if info.get("registration") is not None:
                registered.add_metric(label, float(str(info["registration"]) in _REGISTERED))
            stamp = from_ts(str(updated))
            if stamp is not None:
                age.add_metric(label, max(0.0, (now - stamp).total_seconds()))
        for modem, amount in self._all(
            "SELECT modem, amount FROM modem_balances WHERE id IN (SELECT max(id)"
            " FROM modem_balances WHERE amount IS NOT NULL GROUP BY modem) ORDER BY modem"
        ):
            balance.add_metric([str(modem)], float(str(amount)))
        return [up, signal, registered, balance, age]

    def _latency(self) -> Metric:
        values = sorted(
            (
                datetime.fromisoformat(str(at)) - datetime.fromisoformat(str(received))
            ).total_seconds()
            for at, received in self._all(_LATENCY_SQL, (_RECENT_REPLIES,))
        )
        buckets = []
        for bound in LATENCY_BUCKETS:
            buckets.append((str(bound), float(sum(1 for v in values if v <= bound))))
        buckets.append(("+Inf", float(len(values))))
        return GaugeHistogramMetricFamily(
            "smsd_route_latency_seconds",
            f"Received to replies queued, over the last {_RECENT_REPLIES} replies' messages",
            buckets=buckets,
            gsum_value=sum(values),
        )

    def _webhooks(self, now: datetime) -> list[Metric]:
        backlog = self.store.events.backlog()
        oldest = 0.0
        if backlog.oldest_pending is not None:
            oldest = max(0.0, (now - backlog.oldest_pending).total_seconds())
        return [
            GaugeMetricFamily("smsd_webhook_backlog", "Deliveries pending", backlog.pending),
            GaugeMetricFamily("smsd_webhook_failed", "Deliveries parked failed", backlog.failed),
            GaugeMetricFamily(
                "smsd_webhook_oldest_pending_age_seconds", "Age of the oldest pending", oldest
            ),
        ]


def registry_for(store: Store, *, min_interval_s: float = 5.0) -> CollectorRegistry:
    """A registry holding only the gateway's collector (no process metrics of the web app)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(GatewayCollector(store, min_interval_s=min_interval_s))
    return registry


def metrics_response(registry: CollectorRegistry) -> Callable[[Request], Response]:
    """A Starlette endpoint serving `registry` in the Prometheus text format."""
    from prometheus_client import CONTENT_TYPE_LATEST

    def endpoint(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return endpoint


def write_textfile(store: Store, path: str) -> None:
    """Write the metrics to `path` atomically (node_exporter's textfile collector)."""
    write_to_textfile(path, registry_for(store, min_interval_s=0.0))
