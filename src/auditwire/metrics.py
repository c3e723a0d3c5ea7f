"""Prometheus metrics auditwire exports at `/-/metrics`.

Counters and histograms are updated where things happen; gauges that describe stored state
(pending deliveries, oldest pending age, open circuits) are read from the database when
scraped, so every process reports the same truth.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.metrics_core import Metric
from prometheus_client.samples import Sample

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

HTTP_REQUESTS = Counter(
    "auditwire_http_requests_total",
    "HTTP requests served, by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "auditwire_http_request_duration_seconds",
    "Time to serve an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
EVENTS_RECORDED = Counter(
    "auditwire_audit_events_recorded_total",
    "Audit events recorded (committed or not), by entity type.",
    ["entity_type"],
)

# Delivery. Counted by the worker that made the attempt.
# seconds: from well under a second when healthy to a day behind an outage
DELIVERY_LATENCY_BUCKETS = (
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    300.0,
    900.0,
    3600.0,
    21600.0,
    86400.0,
)

DELIVERIES = Counter(
    "auditwire_delivery_attempts_total",
    "Delivery attempts of events by outcome (delivered, retry, failed, gone) and destination"
    " kind; an event sent in a batch counts once per batch attempt.",
    ["outcome", "kind"],
)
DELIVERY_REQUESTS = Counter(
    "auditwire_delivery_requests_total",
    "Requests made to deliver events, by layout: one event per request, or a batch.",
    ["layout"],
)
DELIVERY_LATENCY = Histogram(
    "auditwire_delivery_latency_seconds",
    "Time from an event's recording (or its replay) to its delivery, by destination kind.",
    ["kind"],
    buckets=DELIVERY_LATENCY_BUCKETS,
)

# The outbox as stored, read from the database at scrape time.
PENDING_DELIVERIES = Gauge(
    "auditwire_deliveries_pending", "Deliveries waiting to be delivered, in all processes."
)
FAILED_DELIVERIES = Gauge(
    "auditwire_deliveries_failed",
    "Deliveries that failed past the maximum age and wait for a retry.",
)
OLDEST_PENDING_AGE = Gauge(
    "auditwire_oldest_pending_delivery_age_seconds",
    "How long the oldest pending delivery has waited (0 when none is pending).",
)
OPEN_CIRCUITS = Gauge(
    "auditwire_destination_circuits_open",
    "Active destinations whose circuit breaker is open.",
)


class Merged:
    """A registry's families with another process's added: counts and sums summed, `_created`
    the earliest. For `prometheus_client.generate_latest`."""

    def __init__(self, registry: Any, others: list[Metric]) -> None:
        self._registry = registry
        self._others = others

    def collect(self) -> Iterator[Metric]:
        others = {m.name: m for m in self._others}
        for family in self._registry.collect():
            other = others.pop(family.name, None)
            yield family if other is None else merge(family, other)
        yield from others.values()


def merge(ours: Metric, theirs: Metric) -> Metric:
    merged = Metric(ours.name, ours.documentation, ours.type)
    values: dict[tuple[str, tuple[tuple[str, str], ...]], Sample] = {}
    for sample in [*ours.samples, *theirs.samples]:
        key = (sample.name, tuple(sorted(sample.labels.items())))
        known = values.get(key)
        if known is None:
            values[key] = sample
        elif sample.name.endswith("_created"):
            values[key] = known._replace(value=min(known.value, sample.value))
        else:
            values[key] = known._replace(value=known.value + sample.value)
    merged.samples = list(values.values())
    return merged
