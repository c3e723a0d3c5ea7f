"""What the worker tells the outside about its attempts: attempt records for the delivery
log, Prometheus counters, and one JSON log line per failed attempt and per circuit change.

Log lines name destinations by id and name only: never a URL (it may carry credentials in
its query), a token, a signing secret or a header value.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from prometheus_client import Counter, Histogram

from auditwire.domain.delivery_log import AttemptOutcome, AttemptRecord, DestinationKind
from auditwire.domain.retry import Circuit, CircuitState
from auditwire.metrics import DELIVERIES, DELIVERY_LATENCY
from auditwire.store.deliveries import Claimed, Result, Settle
from auditwire.streaming.destinations import DestinationConfig
from auditwire.streaming.sinks.base import Answer

log = logging.getLogger("auditwire.delivery")

OUTCOMES = {
    Settle.DELIVERED: AttemptOutcome.DELIVERED,
    Settle.RETRY: AttemptOutcome.RETRY,
    Settle.FAILED: AttemptOutcome.FAILED,
    Settle.GONE: AttemptOutcome.GONE,
}


_SERIES: dict[tuple[AttemptOutcome, DestinationKind], tuple[Counter, Histogram]] = {}


def _series(outcome: AttemptOutcome, kind: DestinationKind) -> tuple[Counter, Histogram]:
    """The labelled counter and histogram, looked up once: this runs for every attempt."""
    found = _SERIES.get((outcome, kind))
    if found is None:
        found = _SERIES[outcome, kind] = (
            DELIVERIES.labels(outcome.value, kind.value),
            DELIVERY_LATENCY.labels(kind.value),
        )
    return found


def kind_of(config: DestinationConfig) -> DestinationKind:
    return DestinationKind.INSTANCE if config.group_id is None else DestinationKind.GROUP


def attempted(
    item: Claimed,
    config: DestinationConfig,
    answer: Answer,
    result: Result,
    started_at: datetime,
    seconds: float,
) -> Result:
    """The result, its attempt record attached; counts the attempt, logs it when it failed."""
    outcome = OUTCOMES.get(result.settle)
    if outcome is None:  # released, not attempted
        return result
    duration_ms = max(0, round(seconds * 1000))
    error = result.error if outcome is not AttemptOutcome.DELIVERED else None
    # Stamped when the attempt ended: records are written in that order, so the log read
    # newest first by id is also ordered by this time.
    finished = started_at + timedelta(seconds=seconds)
    record = AttemptRecord(
        destination_id=item.destination_id,
        event_id=item.event.id,
        event_type=item.event.event_type,
        attempted_at=finished,
        duration_ms=duration_ms,
        outcome=outcome,
        status_code=answer.status,
        error=error,
    )
    kind = kind_of(config)
    counter, latency = _series(outcome, kind)
    counter.inc()
    if outcome is AttemptOutcome.DELIVERED:
        # From the delivery's creation: the event's recording, or its replay or retry (an
        # event's own created_at may be back-dated by its producer).
        latency.observe(max(0.0, (finished - item.created_at).total_seconds()))
    else:
        log.warning(
            "delivery attempt failed",
            extra={
                "destination_id": item.destination_id,
                "destination_name": config.name,
                "destination_kind": kind.value,
                "event_id": item.event.id,
                "event_type": item.event.event_type,
                "attempt": item.attempts,
                "status_code": answer.status,
                "category": config.category,
                "error": error,
                "outcome": outcome.value,
                "duration_ms": duration_ms,
                "next_attempt_at": result.at.isoformat() if result.at else None,
            },
        )
    result.attempt = record
    return result


def circuit_changed(
    destination_id: int, name: str | None, before: Circuit | None, after: Circuit
) -> None:
    """Log a circuit that opened or closed (probes that keep it open are not changes)."""
    if before is not None and before.state is after.state:
        return
    if after.state is CircuitState.OPEN:
        log.warning(
            "destination circuit opened",
            extra={
                "destination_id": destination_id,
                "destination_name": name,
                "circuit_state": after.state.value,
                "consecutive_failures": after.consecutive_failures,
                "open_until": after.open_until.isoformat() if after.open_until else None,
            },
        )
    elif before is not None:
        log.info(
            "destination circuit closed",
            extra={
                "destination_id": destination_id,
                "destination_name": name,
                "circuit_state": after.state.value,
            },
        )
