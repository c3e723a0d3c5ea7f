"""Prometheus metrics auditwire exports at `/-/metrics`.

Counters and histograms are updated where things happen; gauges that describe stored state
(pending deliveries, oldest pending age, open circuits) are read from the database when
scraped, so every process reports the same truth.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

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
