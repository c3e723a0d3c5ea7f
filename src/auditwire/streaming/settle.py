"""Turn any kind's answers into outcomes: one delivery's (`judge`), or a batch's grouped by
outcome so that one statement settles each group (`judge_batch`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from auditwire.domain.delivery import BatchResult, Claimed, Result, Settle, SettleGroup
from auditwire.domain.retry import RetryPolicy, expired, next_delay
from auditwire.streaming.sinks.base import Answer, BatchAnswer, Verdict


def judge(claimed: Claimed, answer: Answer, now: datetime, policy: RetryPolicy) -> Result:
    """The outcome of one attempt, whatever the kind: delivered, retried later, failed for
    good (refused, or past the maximum age), or gone."""
    base = (claimed.delivery_id, claimed.destination_id)
    verdict = answer.verdict
    if verdict is Verdict.DELIVERED:
        return Result(*base, Settle.DELIVERED, probe=claimed.probe)
    error = answer.detail or (f"HTTP {answer.status}" if answer.status else "failed")
    if verdict is Verdict.GONE:
        return Result(*base, Settle.GONE, error=error, probe=claimed.probe)
    if verdict is Verdict.REFUSED or expired(claimed.created_at, now, policy):
        return Result(*base, Settle.FAILED, error=error, probe=claimed.probe)
    delay = next_delay(claimed.attempts, answer.retry_after, policy)
    return Result(
        *base, Settle.RETRY, at=now + timedelta(seconds=delay), error=error, probe=claimed.probe
    )


_BATCH_SETTLE = {
    Verdict.DELIVERED: Settle.DELIVERED,
    Verdict.RETRY: Settle.RETRY,
    Verdict.GONE: Settle.GONE,
    Verdict.REFUSED: Settle.FAILED,
}


def judge_batch(
    items: Sequence[Claimed], answer: BatchAnswer, now: datetime, policy: RetryPolicy
) -> BatchResult:
    """A batch's outcome. A retried batch is retried as a whole, after the backoff of its
    most tried delivery (so the batch stays together); a delivery past the maximum age in
    it fails, as it would alone; a refused event fails with its own reason."""
    attempts = max(item.attempts for item in items)
    probe = any(item.probe for item in items)
    groups: list[SettleGroup] = []
    for part_answer, indices in answer.groups(len(items)):
        chosen = [items[index] for index in indices]
        newest = max(chosen, key=lambda item: item.created_at)
        one = judge(replace(newest, attempts=attempts), part_answer, now, policy)
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
        destination_id=items[0].destination_id,
        settle=_BATCH_SETTLE[main.verdict],
        groups=groups,
        error=error,
        probe=probe,
    )
