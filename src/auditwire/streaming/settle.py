"""Turn answers into outcomes and write them in batches, with the audit trail of a 410."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from auditwire.domain.destination_events import deactivation_event
from auditwire.domain.events import NewAuditEvent
from auditwire.domain.owner import Owner
from auditwire.domain.retry import CircuitPolicy, RetryPolicy, expired, next_delay
from auditwire.metrics import EVENTS_RECORDED
from auditwire.store import deliveries as deliveries_store
from auditwire.store import namespaces as ns_store
from auditwire.store.deliveries import Claimed, Deactivated, Result, Settle, Settled
from auditwire.streaming.sinks.base import Answer, Verdict


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


async def write_outcomes(
    conn: AsyncConnection, results: list[Result], now: datetime, policy: CircuitPolicy
) -> Settled:
    """Settle a batch; a destination that answered 410 is deactivated and that change audited
    in the same transaction, like any other change to a destination."""
    settled = await deliveries_store.record_outcomes(conn, results, now, policy)
    for destination in settled.deactivated:
        event = await _deactivation_event(conn, destination)
        recorded = await deliveries_store.record_events(conn, [event], now)
        for entity_type in {e.entity_type for e in recorded}:
            EVENTS_RECORDED.labels(entity_type).inc()
    return settled


async def _deactivation_event(conn: AsyncConnection, destination: Deactivated) -> NewAuditEvent:
    owner = Owner.instance()
    if destination.group_id is not None:
        group = await ns_store.get_group(conn, destination.group_id)
        owner = Owner.of(group) if group is not None else owner
    return deactivation_event(owner, destination.id, destination.name, destination.category)
