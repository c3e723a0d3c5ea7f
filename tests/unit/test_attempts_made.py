"""A settle's attempts observed at once: each result gets its own attempt record, stamped by
the loop's clock, and each attempt is counted once; a delivered attempt is judged without
reading the clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY

from auditwire.domain.delivery import Claimed, EventRef, Result, Settle
from auditwire.domain.delivery_log import AttemptOutcome
from auditwire.domain.retry import Circuit, RetryPolicy
from auditwire.streaming.destinations import DestinationConfig
from auditwire.streaming.observe import Attempt, attempts_made
from auditwire.streaming.settle import judge, judge_now
from auditwire.streaming.sinks.base import Answer, Verdict

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
POLICY = RetryPolicy(base=4.0, cap=3600.0, max_age=72 * 3600.0)


def _config(group_id: int | None) -> DestinationConfig:
    never_sent: Any = None  # attempts_made only reads the destination's id, group and name
    return DestinationConfig(
        id=5, group_id=group_id, name="siem", category="http", sink=never_sent,
        target=None, circuit=Circuit(), fingerprint=(),
    )  # fmt: skip


def _claimed(delivery_id: int, age: float = 1.0) -> Claimed:
    event = EventRef(100 + delivery_id, "user_created", "User")
    return Claimed(delivery_id, 5, 1, NOW - timedelta(seconds=age), event, b"{}")


def _count(outcome: str, kind: str) -> float:
    labels = {"outcome": outcome, "kind": kind}
    return REGISTRY.get_sample_value("auditwire_delivery_attempts_total", labels) or 0.0


def _latencies(kind: str) -> float:
    labels = {"kind": kind}
    return REGISTRY.get_sample_value("auditwire_delivery_latency_seconds_count", labels) or 0.0


def test_each_attempt_gets_its_own_record_and_is_counted_once() -> None:
    config = _config(group_id=9)
    answers = [
        Answer(Verdict.DELIVERED, 200),
        Answer(Verdict.RETRY, 503, "HTTP 503"),
        Answer(Verdict.GONE, 410, "410 Gone"),
        Answer(Verdict.DELIVERED, 204),
        Answer(Verdict.REFUSED, 413, "HTTP 413"),
    ]
    attempts: list[Attempt] = []
    for n, answer in enumerate(answers):
        item = _claimed(n + 1)
        result = judge(item, answer, NOW, POLICY)
        attempts.append((item, config, answer, result, 10.0 + n, 10.25 + n))
    released = Result(99, 5, Settle.RELEASE)
    attempts.append((_claimed(99), config, answers[0], released, 20.0, 20.0))
    before = {o: _count(o, "group") for o in ("delivered", "retry", "gone", "failed")}
    latencies = _latencies("group")

    # The loop's time 20.0 is NOW: an attempt that ended at loop time t ended at NOW - (20 - t).
    attempts_made(attempts, 20.0, NOW)

    records = [a[3].attempt for a in attempts]
    assert records[-1] is None  # released: not attempted
    assert [r.outcome if r else None for r in records[:-1]] == [
        AttemptOutcome.DELIVERED,
        AttemptOutcome.RETRY,
        AttemptOutcome.GONE,
        AttemptOutcome.DELIVERED,
        AttemptOutcome.FAILED,
    ]
    for n, (record, answer) in enumerate(zip(records[:-1], answers, strict=True)):
        assert record is not None
        assert (record.destination_id, record.event_id, record.event_type) == (
            5,
            101 + n,
            "user_created",
        )
        assert record.status_code == answer.status
        assert record.duration_ms == 250
        assert record.error == (None if answer.verdict is Verdict.DELIVERED else answer.detail)
        expected_at = NOW - timedelta(seconds=20.0 - (10.25 + n))
        assert abs((record.attempted_at - expected_at).total_seconds()) < 1e-3
    after = {o: _count(o, "group") for o in before}
    assert {o: after[o] - before[o] for o in before} == {
        "delivered": 2,
        "retry": 1,
        "gone": 1,
        "failed": 1,
    }
    assert _latencies("group") - latencies == 2


def test_a_delivered_attempt_is_judged_without_reading_the_clock() -> None:
    def clock() -> datetime:
        raise AssertionError("the clock was read")

    result = judge_now(_claimed(1), Answer(Verdict.DELIVERED, 200), clock, POLICY)
    assert (result.delivery_id, result.destination_id, result.settle) == (1, 5, Settle.DELIVERED)


@pytest.mark.parametrize("status", [503, 410])
def test_a_failed_attempt_is_judged_at_the_clock_as_judge_does(status: int) -> None:
    verdict = Verdict.GONE if status == 410 else Verdict.RETRY
    answer = Answer(verdict, status, f"HTTP {status}")
    now = judge_now(_claimed(1), answer, lambda: NOW, POLICY)
    then = judge(_claimed(1), answer, NOW, POLICY)
    assert (now.settle, now.error) == (then.settle, then.error)
    if now.settle is Settle.RETRY:  # after a jittered backoff from the clock's time
        assert now.at is not None and now.at > NOW
