from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from auditwire.config import Settings
from auditwire.domain.retry import (
    Circuit,
    CircuitPolicy,
    CircuitState,
    Gate,
    Outcome,
    RetryPolicy,
    backoff,
    classify,
    expired,
    next_delay,
    parse_retry_after,
)

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
POLICY = RetryPolicy()


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_any_2xx_is_delivered(status: int) -> None:
    assert classify(status) is Outcome.DELIVERED


@pytest.mark.parametrize("status", [None, 100, 301, 302, 307, 400, 401, 404, 429, 500, 503])
def test_everything_else_is_retried_including_redirects_and_no_response(
    status: int | None,
) -> None:
    assert classify(status) is Outcome.RETRY


def test_410_gone_deactivates() -> None:
    assert classify(410) is Outcome.GONE


def test_the_first_retry_comes_within_five_seconds() -> None:
    rng = random.Random(1)
    delays = [backoff(1, POLICY, rng) for _ in range(1000)]
    assert max(delays) <= 5.0
    assert min(delays) >= POLICY.base / 2


def test_backoff_grows_then_stays_under_an_hour() -> None:
    rng = random.Random(2)
    ceilings = [max(backoff(n, POLICY, rng) for _ in range(200)) for n in range(1, 30)]
    assert ceilings[3] > ceilings[0] * 4
    assert max(ceilings) <= 3600.0
    assert ceilings[-1] >= 1800.0  # equal jitter: never below half the cap once capped


def test_backoff_is_jittered() -> None:
    rng = random.Random(3)
    assert len({backoff(5, POLICY, rng) for _ in range(20)}) == 20


def test_backoff_survives_huge_attempt_counts() -> None:
    assert backoff(10_000, POLICY, random.Random(4)) <= 3600.0


def test_retry_after_seconds_and_http_dates_are_read() -> None:
    assert parse_retry_after("120", NOW) == 120.0
    assert parse_retry_after("Thu, 01 Jan 2026 12:01:30 GMT", NOW) == 90.0
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", NOW) == 0.0
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after("", NOW) is None
    assert parse_retry_after(None, NOW) is None
    assert parse_retry_after("-5", NOW) is None


def test_retry_after_wins_over_backoff_within_the_cap() -> None:
    assert next_delay(1, 30.0, POLICY) == 30.0
    assert next_delay(1, 10 * 86400.0, POLICY) == 3600.0
    assert next_delay(1, None, POLICY, random.Random(5)) <= 5.0


def test_deliveries_expire_at_the_maximum_age() -> None:
    policy = RetryPolicy(max_age=72 * 3600.0)
    assert not expired(NOW - timedelta(hours=71, minutes=59), NOW, policy)
    assert expired(NOW - timedelta(hours=72), NOW, policy)


def test_undelivered_events_are_kept_trying_for_seven_days_by_default() -> None:
    default = Settings.model_fields["delivery_max_age"].default
    assert default == RetryPolicy().max_age == 7 * 86400.0
    assert not expired(NOW - timedelta(days=6, hours=23), NOW, RetryPolicy(max_age=default))
    assert expired(NOW - timedelta(days=7), NOW, RetryPolicy(max_age=default))


CIRCUIT = CircuitPolicy(failures=5, probe_base=15.0, probe_max=900.0)


def fail(circuit: Circuit, times: int, *, probe: bool = False) -> Circuit:
    for _ in range(times):
        circuit = circuit.after_failure(NOW, CIRCUIT, probe=probe)
    return circuit


def test_the_circuit_opens_after_five_consecutive_failures() -> None:
    four = fail(Circuit(), 4)
    assert four.state is CircuitState.CLOSED
    assert four.gate(NOW) is Gate.SEND
    five = fail(four, 1)
    assert five.state is CircuitState.OPEN
    assert five.open_until == NOW + timedelta(seconds=15)
    assert five.gate(NOW) is Gate.WAIT
    assert five.gate(NOW + timedelta(seconds=15)) is Gate.PROBE


def test_a_success_resets_the_count_of_failures() -> None:
    circuit = fail(Circuit(), 4).after_success()
    assert fail(circuit, 4).state is CircuitState.CLOSED


def test_failed_probes_wait_longer_each_time_up_to_the_maximum() -> None:
    circuit = fail(Circuit(), 5)
    waits = []
    for _ in range(10):
        circuit = circuit.after_failure(NOW, CIRCUIT, probe=True)
        assert circuit.open_until is not None
        waits.append((circuit.open_until - NOW).total_seconds())
    assert waits[:4] == [30.0, 60.0, 120.0, 240.0]
    assert waits[-1] == 900.0


def test_late_failures_of_requests_sent_before_opening_do_not_extend_the_wait() -> None:
    opened = fail(Circuit(), 5)
    assert fail(opened, 11) == opened


def test_the_first_success_closes_an_open_circuit() -> None:
    opened = fail(Circuit(), 7, probe=True)
    closed = opened.after_success()
    assert closed == Circuit()
    assert closed.gate(NOW) is Gate.SEND
