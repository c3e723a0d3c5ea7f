"""GraphQL types for delivery: a destination's `health` and its `deliveries` (the delivery log).

Additive to GitLab's schema, named in its conventions. Both fields resolve through the
delivery service, which checks that the caller may manage the destination.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

import strawberry
from strawberry.types.scalar import ScalarDefinition

from auditwire.api.graphql._args import After, First, OutcomeFilter
from auditwire.api.graphql.context import Info
from auditwire.api.graphql.pagination import (
    MAX_PAGE_SIZE,
    Connection,
    Edge,
    PageInfo,
    decode_cursor,
    encode_cursor,
)
from auditwire.domain.delivery_log import AttemptOutcome, AttemptRecord, HealthState
from auditwire.domain.destinations import Destination
from auditwire.domain.events import as_utc, format_timestamp
from auditwire.domain.owner import OwnerKind
from auditwire.errors import InvalidInput


def _parse_time(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a valid ISO 8601 time")
    try:
        return as_utc(datetime.fromisoformat(value))
    except ValueError:
        raise ValueError(f'"{value}" is not a valid ISO 8601 time') from None


TIME: ScalarDefinition = strawberry.scalar(
    name="Time",
    description='Time represented in ISO 8601. For example: "2021-03-09T14:58:50+00:00".',
    serialize=lambda value: format_timestamp(value),
    parse_value=_parse_time,
)

HealthStateType = strawberry.enum(
    HealthState,
    name="AuditEventsStreamingDestinationHealthState",
    description="Delivery health of a streaming destination.",
)
AttemptOutcomeType = strawberry.enum(
    AttemptOutcome,
    name="AuditEventsStreamingDeliveryOutcome",
    description="What came of one delivery attempt.",
)


@strawberry.type(
    name="AuditEventsStreamingDestinationHealth",
    description="How delivery to a streaming destination is going.",
)
class DestinationHealthType:
    state: HealthState = strawberry.field(description="Delivery state of the destination.")
    pending_count: int = strawberry.field(description="Deliveries waiting to be delivered.")
    failed_count: int = strawberry.field(
        description="Deliveries that failed past the maximum age; they can be retried."
    )
    consecutive_failures: int = strawberry.field(description="Failed attempts in a row.")
    last_success_at: datetime | None = strawberry.field(
        description="Time of the last successful delivery."
    )
    last_failure_at: datetime | None = strawberry.field(
        description="Time of the last failed attempt."
    )
    last_error: str | None = strawberry.field(description="Error of the last failed attempt.")


@strawberry.type(
    name="AuditEventsStreamingDeliveryAttempt",
    description="One attempt to deliver an audit event to a streaming destination.",
)
class DeliveryAttemptType:
    event_id: strawberry.ID = strawberry.field(
        description="ID of the audit event: the `id` of the body and its `webhook-id` header."
    )
    event_type: str = strawberry.field(description="Type of the audit event.")
    attempted_at: datetime = strawberry.field(
        description="Time the attempt ended: the response came, or the request failed."
    )
    status_code: int | None = strawberry.field(
        description="HTTP status the destination answered; null when no response came."
    )
    duration_ms: int = strawberry.field(description="Duration of the attempt in milliseconds.")
    error: str | None = strawberry.field(description="Why the attempt failed.")
    outcome: AttemptOutcome = strawberry.field(description="What came of the attempt.")
    event_count: int = strawberry.field(
        description="Events the attempt carried: 1, or a batch's (from eventId to lastEventId)."
    )
    last_event_id: strawberry.ID = strawberry.field(
        description="ID of the last audit event of a batch; eventId for one event."
    )

    @classmethod
    def of(cls, record: AttemptRecord) -> DeliveryAttemptType:
        return cls(
            event_id=strawberry.ID(str(record.event_id)),
            event_type=record.event_type,
            attempted_at=record.attempted_at,
            status_code=record.status_code,
            duration_ms=record.duration_ms,
            error=record.error,
            outcome=record.outcome,
            event_count=record.event_count,
            last_event_id=strawberry.ID(str(record.last_event_id or record.event_id)),
        )


async def health(info: Info, destination_id: int, *, kind: OwnerKind) -> DestinationHealthType:
    found = await info.context.services.delivery.health(
        info.context.actor, destination_id, kind=kind
    )
    return DestinationHealthType(
        state=found.state,
        pending_count=found.pending_count,
        failed_count=found.failed_count,
        consecutive_failures=found.consecutive_failures,
        last_success_at=found.last_success_at,
        last_failure_at=found.last_failure_at,
        last_error=found.last_error,
    )


async def deliveries(
    info: Info,
    destination_id: int,
    *,
    kind: OwnerKind,
    first: int | None,
    after: str | None,
    outcome: AttemptOutcome | None,
) -> Connection[DeliveryAttemptType]:
    """Newest first; `after` a cursor continues with older attempts."""
    if first is not None and first < 0:
        raise InvalidInput("Argument 'first' and 'last' must be non-negative")
    size = min(first if first is not None else MAX_PAGE_SIZE, MAX_PAGE_SIZE)
    before_id = decode_cursor(after) if after is not None else None
    found = await info.context.services.delivery.attempts(
        info.context.actor,
        destination_id,
        kind=kind,
        limit=size + 1,
        before_id=before_id,
        outcome=outcome,
    )
    chosen = found[:size]
    edges = [Edge(cursor=encode_cursor(r.id or 0), node=DeliveryAttemptType.of(r)) for r in chosen]
    return Connection(
        edges=edges,
        nodes=[e.node for e in edges],
        page_info=PageInfo(
            has_next_page=len(found) > size,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )


@strawberry.type
class DeliveryFields:
    """`health` and `deliveries`, which every destination type has, whatever its family."""

    destination: strawberry.Private[Destination]
    kind: ClassVar[OwnerKind] = OwnerKind.GROUP

    @strawberry.field(description="How delivery to the destination is going.")
    async def health(self, info: Info) -> DestinationHealthType:
        return await health(info, self.destination.id, kind=self.kind)

    @strawberry.field(description="Recent delivery attempts to the destination, newest first.")
    async def deliveries(
        self, info: Info, first: First = None, after: After = None, outcome: OutcomeFilter = None
    ) -> Connection[DeliveryAttemptType]:
        return await deliveries(
            info,
            self.destination.id,
            kind=self.kind,
            first=first,
            after=after,
            outcome=outcome,
        )
