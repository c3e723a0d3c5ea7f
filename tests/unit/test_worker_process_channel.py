"""The pieces between `serve` and its worker process: frames on the socket pair, the child's
delivery metrics added to the API's, and the settings passed through the environment."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from auditwire.config import Plan, Settings
from auditwire.metrics import Merged
from auditwire.streaming.child import (
    METRICS,
    RUNNING,
    STARTED,
    decode_families,
    encode_families,
    frame,
    frames,
    settings_env,
)


def test_frames_are_read_whole_and_a_partial_one_is_kept_for_later() -> None:
    buffer = frame(STARTED, b"") + frame(RUNNING, b"1") + frame(METRICS, b"[1,2,3]")
    cut = buffer[:-3]
    found, left = frames(cut)
    assert found == [(STARTED, b""), (RUNNING, b"1")]
    assert left == frame(METRICS, b"[1,2,3]")[:-3]
    assert frames(left + buffer[-3:]) == ([(METRICS, b"[1,2,3]")], b"")
    assert frames(buffer)[1] == b""


def registry_with(delivered: int, latencies: list[float]) -> CollectorRegistry:
    registry = CollectorRegistry()
    attempts = Counter(
        "auditwire_delivery_attempts", "Attempts.", ["outcome", "kind"], registry=registry
    )
    latency = Histogram(
        "auditwire_delivery_latency_seconds", "Latency.", ["kind"], registry=registry
    )
    Counter("auditwire_unrelated", "Not a delivery family.", registry=registry).inc()
    if delivered:
        attempts.labels("delivered", "group").inc(delivered)
    for seconds in latencies:
        latency.labels("group").observe(seconds)
    return registry


def sample(text: str, prefix: str) -> float:
    [line] = [line for line in text.splitlines() if line.startswith(prefix)]
    return float(line.split()[-1])


def test_the_childs_delivery_counts_are_added_to_the_apis() -> None:
    child = decode_families(encode_families(registry_with(7, [0.01, 0.2, 3.0])))
    assert {f.name for f in child} == {
        "auditwire_delivery_attempts",
        "auditwire_delivery_latency_seconds",
    }
    text = generate_latest(Merged(registry_with(2, [0.01]), child)).decode()  # type: ignore[arg-type]
    delivered = 'auditwire_delivery_attempts_total{kind="group",outcome="delivered"}'
    assert sample(text, delivered) == 9
    assert sample(text, 'auditwire_delivery_latency_seconds_count{kind="group"}') == 4
    assert sample(text, 'auditwire_delivery_latency_seconds_bucket{kind="group",le="0.25"}') == 3
    assert sample(text, "auditwire_unrelated_total") == 1  # the API's own, not the child's
    assert text.count("# TYPE auditwire_delivery_attempts_total counter") == 1


def test_unreadable_metrics_from_the_child_are_dropped() -> None:
    assert decode_families(b"not json") == []
    assert decode_families(b'[["auditwire_delivery_attempts", "counter"]]') == []


def test_the_child_gets_the_settings_of_its_parent() -> None:
    settings = Settings(
        database_url="sqlite:///x.db",
        default_plan=Plan.FREE,
        allow_local_requests=True,
        delivery_poll_interval=0.25,
        secret_key="k",
    )
    env = settings_env(settings)
    assert env["AUDITWIRE_ALLOW_LOCAL_REQUESTS"] == "true"
    assert (
        Settings(
            **{
                k.removeprefix("AUDITWIRE_").lower(): v
                for k, v in env.items()
                if k.startswith("AUDITWIRE_")
            }
        )
        == settings
    )
