"""Turn attempts into outcomes and write them in batches, with the audit trail of a 410."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from auditwire.domain.destination_events import deactivation_event
from auditwire.domain.events import NewAuditEvent
from auditwire.domain.owner import Owner
from auditwire.domain.retry import (
    CircuitPolicy,
    Outcome,
    RetryPolicy,
    classify,
    expired,
    next_delay,
    parse_retry_after,
)
from auditwire.services import events as event_service
from auditwire.store import deliveries as deliveries_store
from auditwire.store import namespaces as ns_store
from auditwire.store.deliveries import Claimed, Deactivated, Result, Settle, Settled
from auditwire.streaming.sender import Attempt


def judge(claimed: Claimed, attempt: Attempt, now: datetime, policy: RetryPolicy) -> Result:
    """The outcome of one attempt: delivered, retried later, failed for good, or gone."""
    outcome = classify(attempt.status)
    base = (claimed.delivery_id, claimed.destination_id)
    if outcome is Outcome.DELIVERED:
        return Result(*base, Settle.DELIVERED, probe=claimed.probe)
    if outcome is Outcome.GONE:
        return Result(*base, Settle.GONE, error="410 Gone", probe=claimed.probe)
    error = attempt.error or f"HTTP {attempt.status}"
    if expired(claimed.created_at, now, policy):
        return Result(*base, Settle.FAILED, error=error, probe=claimed.probe)
    delay = next_delay(claimed.attempts, parse_retry_after(attempt.retry_after, now), policy)
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
        await event_service.record(conn, [await _deactivation_event(conn, destination)])
    return settled


async def _deactivation_event(conn: AsyncConnection, destination: Deactivated) -> NewAuditEvent:
    owner = Owner.instance()
    if destination.group_id is not None:
        group = await ns_store.get_group(conn, destination.group_id)
        owner = Owner.of(group) if group is not None else owner
    return deactivation_event(owner, destination.id, destination.name, destination.category)
