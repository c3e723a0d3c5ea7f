from __future__ import annotations

from datetime import UTC, datetime, timedelta

from auditwire.domain.events import AuditEvent
from auditwire.domain.retry import RetryPolicy
from auditwire.store.deliveries import Claimed, Settle
from auditwire.streaming.settle import judge
from auditwire.streaming.sinks.base import Answer, Verdict
from auditwire.streaming.sinks.http import answer_of

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
POLICY = RetryPolicy(base=4.0, cap=3600.0, max_age=72 * 3600.0)


def Attempt(status: int | None, retry_after: str | None = None, error: str | None = None) -> Answer:
    """The HTTP sink's answer to a status, or to no response at all."""
    if status is None:
        return Answer(Verdict.RETRY, detail=error)
    return answer_of(status, retry_after)


def claimed(age: timedelta = timedelta(minutes=1), attempts: int = 1) -> Claimed:
    event = AuditEvent(
        id=7,
        event_type="group_created",
        author_id=1,
        author_name="Administrator",
        entity_type="Group",
        entity_id=1,
        entity_path="a",
        target_id=None,
        target_type=None,
        target_details=None,
        ip_address=None,
        details={},
        created_at=NOW - age,
        stream_only=False,
        root_group_id=1,
    )
    return Claimed(11, 3, attempts, NOW - age, event)


def test_a_2xx_answer_settles_as_delivered() -> None:
    assert judge(claimed(), Attempt(204), NOW, POLICY).settle is Settle.DELIVERED


def test_a_failure_is_rescheduled_within_the_backoff_and_keeps_the_error() -> None:
    result = judge(claimed(), Attempt(503), NOW, POLICY)
    assert result.settle is Settle.RETRY
    assert result.at is not None
    assert NOW + timedelta(seconds=2) <= result.at <= NOW + timedelta(seconds=4)
    assert result.error == "HTTP 503"


def test_no_response_is_retried_with_its_reason() -> None:
    result = judge(claimed(), Attempt(None, error="timed out"), NOW, POLICY)
    assert result.settle is Settle.RETRY
    assert result.error == "timed out"


def test_retry_after_sets_the_next_attempt() -> None:
    result = judge(claimed(), Attempt(429, retry_after="90"), NOW, POLICY)
    assert result.at == NOW + timedelta(seconds=90)


def test_a_redirect_is_a_failure() -> None:
    assert judge(claimed(), Attempt(302), NOW, POLICY).settle is Settle.RETRY


def test_a_failure_past_the_maximum_age_fails_for_good() -> None:
    result = judge(claimed(age=timedelta(hours=72)), Attempt(500), NOW, POLICY)
    assert result.settle is Settle.FAILED
    assert result.error == "HTTP 500"


def test_410_settles_as_gone() -> None:
    assert judge(claimed(), Attempt(410), NOW, POLICY).settle is Settle.GONE
