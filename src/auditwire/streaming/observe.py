"""What the worker tells the outside about its attempts: attempt records for the delivery
log, Prometheus counters, and one JSON log line per failed attempt and per circuit change.

Log lines name destinations by id and name only: never a URL (it may carry credentials in
its query), a token, a signing secret or a header value.
"""

from __future__ import annotations

import logging
import math
from bisect import bisect_right
from collections import Counter as Tally
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from prometheus_client import Counter, Histogram

from auditwire.domain.delivery import BatchResult, Claimed, Leased, Result, Settle
from auditwire.domain.delivery_log import AttemptOutcome, AttemptRecord, DestinationKind
from auditwire.domain.retry import Circuit, CircuitState
from auditwire.metrics import DELIVERIES, DELIVERY_LATENCY, DELIVERY_REQUESTS
from auditwire.streaming.destinations import DestinationConfig
from auditwire.streaming.sinks.base import Answer, BatchAnswer

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


# One per-event attempt as the worker notes it when its answer comes: the delivery, its
# destination, the answer, the judged outcome, and the event loop's time at start and end.
Attempt = tuple[Claimed, DestinationConfig, Answer, Result, float, float]


def attempts_made(attempts: Sequence[Attempt], loop_now: float, now: datetime) -> None:
    """Attach each attempt's record to its result, count the attempts per outcome and kind,
    observe the delivered ones' latencies, and log each failed one: for all the attempts of a
    settle at once. `now` is the wall-clock time at the event loop's time `loop_now`: each
    attempt is stamped when it ended, by the loop's clock (records are written in that
    order, so the log read newest first by id is also ordered by this time)."""
    epoch = now.timestamp() - loop_now  # the wall-clock time, in epoch seconds, at loop time 0
    counts: Tally[tuple[AttemptOutcome, DestinationKind]] = Tally()
    latencies: dict[DestinationKind, list[float]] = {}
    for item, config, answer, result, started, ended in attempts:
        outcome = OUTCOMES.get(result.settle)
        if outcome is None:  # released, not attempted
            continue
        seconds = ended - started
        duration_ms = max(0, round(seconds * 1000))
        finished = epoch + ended
        event = item.event
        kind = kind_of(config)
        counts[outcome, kind] += 1
        error = None
        if outcome is AttemptOutcome.DELIVERED:
            # From the delivery's creation: the event's recording, or its replay or retry (an
            # event's own created_at may be back-dated by its producer).
            latencies.setdefault(kind, []).append(finished - item.created_at.timestamp())
        else:
            error = result.error
            log.warning(
                "delivery attempt failed",
                extra={
                    "destination_id": item.destination_id,
                    "destination_name": config.name,
                    "destination_kind": kind.value,
                    "event_id": event.id,
                    "event_type": event.event_type,
                    "attempt": item.attempts,
                    "status_code": answer.status,
                    "category": config.category,
                    "error": error,
                    "outcome": outcome.value,
                    "duration_ms": duration_ms,
                    "next_attempt_at": result.at.isoformat() if result.at else None,
                },
            )
        result.attempt = AttemptRecord(
            destination_id=item.destination_id,
            event_id=event.id,
            event_type=event.event_type,
            attempted_at=datetime.fromtimestamp(finished, UTC),
            duration_ms=duration_ms,
            outcome=outcome,
            status_code=answer.status,
            error=error,
        )
    for (outcome, kind), count in counts.items():
        _series(outcome, kind)[0].inc(count)
    for kind, amounts in latencies.items():
        observe_all(_series(AttemptOutcome.DELIVERED, kind)[1], amounts)


def batch_attempted(
    items: Sequence[Leased],
    config: DestinationConfig,
    answer: BatchAnswer,
    result: BatchResult,
    started_at: datetime,
    seconds: float,
) -> BatchResult:
    """The batch's result with its one attempt record (event count, first and last id, the
    receiver's answer); counts its events per outcome and its requests, and the latency of
    each delivered event in one step for the batch."""
    outcome = OUTCOMES.get(result.settle)
    if outcome is None:
        return result
    duration_ms = max(0, round(seconds * 1000))
    finished = started_at + timedelta(seconds=seconds)
    kind = kind_of(config)
    DELIVERY_REQUESTS.labels("batch").inc(answer.requests)
    for group in result.groups:
        group_outcome = OUTCOMES.get(group.settle)
        if group_outcome is not None:
            _series(group_outcome, kind)[0].inc(len(group.delivery_ids))
    delivered_groups = [g for g in result.groups if g.settle is Settle.DELIVERED]
    if len(delivered_groups) == 1 and len(delivered_groups[0].delivery_ids) == len(items):
        delivered_items: Sequence[Leased] = items  # the common case: all of them
    else:
        delivered = {d for g in delivered_groups for d in g.delivery_ids}
        delivered_items = [item for item in items if item.delivery_id in delivered]
    if delivered_items:
        # From the delivery's creation: the event's recording, or its replay or retry.
        end = finished.timestamp()
        observe_all(
            _series(AttemptOutcome.DELIVERED, kind)[1],
            [end - item.created_at.timestamp() for item in delivered_items],
        )
    if outcome is not AttemptOutcome.DELIVERED or result.count != len(delivered_items):
        log.warning(
            "batch delivery attempt failed"
            if outcome is not AttemptOutcome.DELIVERED
            else "batch delivered with refused events",
            extra={
                "destination_id": config.id,
                "destination_name": config.name,
                "destination_kind": kind.value,
                "first_event_id": items[0].event_id,
                "last_event_id": items[-1].event_id,
                "events": len(items),
                "delivered": len(delivered_items),
                "requests": answer.requests,
                "status_code": answer.answer.status,
                "category": config.category,
                "error": result.error,
                "outcome": outcome.value,
                "duration_ms": duration_ms,
            },
        )
    result.attempt = AttemptRecord(
        destination_id=config.id,
        event_id=items[0].event_id,
        event_type=items[0].event_type if len(items) == 1 else "batch",
        attempted_at=finished,
        duration_ms=duration_ms,
        outcome=outcome,
        status_code=answer.answer.status,
        error=result.error,
        event_count=len(items),
        last_event_id=items[-1].event_id,
    )
    return result


def observe_all(histogram: Histogram, amounts: Sequence[float]) -> None:
    """`histogram.observe(max(0, amount))` for each amount, counted in one step per bucket:
    a thousand observations of a batch cost a sort and a bisection per bucket instead of a
    thousand observe calls (which showed in profiles). Falls back to observing each where
    the client's histogram does not keep its buckets as this expects."""
    clamped = sorted(amount if amount > 0.0 else 0.0 for amount in amounts)
    bounds = getattr(histogram, "_upper_bounds", None)
    buckets = getattr(histogram, "_buckets", None)
    total = getattr(histogram, "_sum", None)
    if bounds is None or buckets is None or total is None or len(bounds) != len(buckets):
        for amount in clamped:
            histogram.observe(amount)
        return
    total.inc(math.fsum(clamped))
    below = 0
    for bucket, bound in zip(buckets, bounds, strict=True):
        upto = bisect_right(clamped, bound, lo=below)  # observations <= bound
        if upto > below:
            bucket.inc(upto - below)
        below = upto
        if below == len(clamped):
            break


def requests_made(count: int) -> None:
    """Count `count` per-event requests (once per settle, not per attempt)."""
    if count:
        DELIVERY_REQUESTS.labels("event").inc(count)


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
