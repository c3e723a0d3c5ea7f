"""Turn any kind's answers into outcomes: one delivery's (`judge`), or a batch's grouped by
outcome so that one statement settles each group (`judge_batch`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from auditwire.domain.delivery import BatchResult, Claimed, Leased, Result, Settle, SettleGroup
from auditwire.domain.retry import RetryPolicy, expired, next_delay
from auditwire.streaming.sinks.base import Answer, BatchAnswer, Verdict


def judge(claimed: Claimed, answer: Answer, now: datetime, policy: RetryPolicy) -> Result:
    """The outcome of one attempt, whatever the kind: delivered, retried later, failed for
    good (refused, or past the maximum age), or gone."""
    return _judged(
        claimed.delivery_id,
        claimed.destination_id,
        claimed.attempts,
        claimed.created_at,
        claimed.probe,
        answer,
        now,
        policy,
    )


def judge_now(
    claimed: Claimed, answer: Answer, clock: Callable[[], datetime], policy: RetryPolicy
) -> Result:
    """`judge` at `clock()`, read only when the time matters: a delivered attempt's outcome
    does not depend on it (the worker's hot path reads no clock per delivery)."""
    if answer.verdict is Verdict.DELIVERED:
        return Result(
            claimed.delivery_id, claimed.destination_id, Settle.DELIVERED, probe=claimed.probe
        )
    return judge(claimed, answer, clock(), policy)


def _judged(
    delivery_id: int,
    destination_id: int,
    attempts: int,
    created_at: datetime,
    probe: bool,
    answer: Answer,
    now: datetime,
    policy: RetryPolicy,
) -> Result:
    base = (delivery_id, destination_id)
    verdict = answer.verdict
    if verdict is Verdict.DELIVERED:
        return Result(*base, Settle.DELIVERED, probe=probe)
    error = answer.detail or (f"HTTP {answer.status}" if answer.status else "failed")
    if verdict is Verdict.GONE:
        return Result(*base, Settle.GONE, error=error, probe=probe)
    if verdict is Verdict.REFUSED or expired(created_at, now, policy):
        return Result(*base, Settle.FAILED, error=error, probe=probe)
    delay = next_delay(attempts, answer.retry_after, policy)
    return Result(*base, Settle.RETRY, at=now + timedelta(seconds=delay), error=error, probe=probe)


_BATCH_SETTLE = {
    Verdict.DELIVERED: Settle.DELIVERED,
    Verdict.RETRY: Settle.RETRY,
    Verdict.GONE: Settle.GONE,
    Verdict.REFUSED: Settle.FAILED,
}


def judge_batch(
    destination_id: int,
    items: Sequence[Leased],
    answer: BatchAnswer,
    now: datetime,
    policy: RetryPolicy,
    *,
    probe: bool = False,
) -> BatchResult:
    """A batch's outcome. A retried batch is retried as a whole, after the backoff of its
    most tried delivery (so the batch stays together); a delivery past the maximum age in
    it fails, as it would alone; a refused event fails with its own reason."""
    attempts = max(item.attempts for item in items)
    groups: list[SettleGroup] = []
    for part_answer, indices in answer.groups(len(items)):
        chosen = items if len(indices) == len(items) else [items[index] for index in indices]
        newest = max(item.created_at for item in chosen)
        one = _judged(0, destination_id, attempts, newest, probe, part_answer, now, policy)
        if one.settle is Settle.RETRY:  # those past the maximum age fail instead
            old = tuple(c.delivery_id for c in chosen if expired(c.created_at, now, policy))
            if old:
                groups.append(SettleGroup(Settle.FAILED, old, error=one.error))
            gone_old = set(old)
            young = tuple(c.delivery_id for c in chosen if c.delivery_id not in gone_old)
            if young:
                groups.append(SettleGroup(Settle.RETRY, young, at=one.at, error=one.error))
            continue
        ids = tuple(c.delivery_id for c in chosen)
        groups.append(SettleGroup(one.settle, ids, at=one.at, error=one.error))
    main = answer.answer
    error = main.detail or (f"HTTP {main.status}" if main.status else None)
    if main.verdict is not Verdict.DELIVERED and error is None:
        error = "failed"
    return BatchResult(
        destination_id=destination_id,
        settle=_BATCH_SETTLE[main.verdict],
        groups=groups,
        error=error,
        probe=probe,
    )
