"""A batch's latencies counted per bucket in one step are what observing each would count."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram

from auditwire.metrics import DELIVERY_LATENCY_BUCKETS
from auditwire.streaming.observe import observe_all

AMOUNTS = [0.0, -0.5, 0.05, 0.049, 0.1000001, 0.25, 0.3, 1.0, 2.5, 7.0, 1e9] * 7 + [0.2] * 1000


def _histogram(registry: CollectorRegistry) -> Histogram:
    return Histogram(
        "latency", "test", ["kind"], buckets=DELIVERY_LATENCY_BUCKETS, registry=registry
    )


def _samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for metric in registry.collect()
        for s in metric.samples
        if not s.name.endswith("_created")
    }


def test_observing_a_batch_at_once_counts_what_observing_each_counts() -> None:
    one_by_one, at_once = CollectorRegistry(), CollectorRegistry()
    each = _histogram(one_by_one).labels("group")
    for amount in AMOUNTS:
        each.observe(max(0.0, amount))
    batch = _histogram(at_once).labels("group")
    observe_all(batch, AMOUNTS[:500])
    observe_all(batch, AMOUNTS[500:])
    observe_all(batch, [])

    expected, got = _samples(one_by_one), _samples(at_once)
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        if key[0].endswith("_sum"):  # summed in another order: equal up to rounding
            assert abs(got[key] - value) < 1e-6 * value
        else:
            assert got[key] == value, key
