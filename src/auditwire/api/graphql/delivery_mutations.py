"""Mutations that steer delivery, for group and instance destinations alike: send a test
event, replay a window of events, retry failed deliveries. Additive to GitLab's schema."""

from __future__ import annotations

from datetime import datetime

import strawberry

from auditwire.api.graphql._mutation import actor, attempt, given
from auditwire.api.graphql.context import Info
from auditwire.api.graphql.ids import AnyDestinationID
from auditwire.domain.owner import OwnerKind
from auditwire.services.delivery import DeliveryService

# Any family's global ID of the same row will do; the mutation's family (group or instance)
# must be the destination's.
ANY_ID = "Global ID of the destination, in any API family (HTTP, consolidated, GCP or S3)."


def delivery(info: Info) -> DeliveryService:
    return info.context.services.delivery


# Test ---------------------------------------------------------------------------------------


@strawberry.input(name="AuditEventsStreamingDestinationTestInput")
class TestInput:
    destination_id: AnyDestinationID = strawberry.field(description=ANY_ID)
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.input(name="AuditEventsStreamingDestinationInstanceTestInput")
class InstanceTestInput:
    destination_id: AnyDestinationID = strawberry.field(description=ANY_ID)
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.type(name="AuditEventsStreamingDestinationTestPayload")
class TestPayload:
    client_mutation_id: str | None
    errors: list[str]
    event_id: strawberry.ID | None = strawberry.field(description="ID of the test event sent.")
    status_code: int | None = strawberry.field(
        description="HTTP status the destination answered; null when no response came."
    )
    duration_ms: int | None = strawberry.field(description="Duration of the request in ms.")
    error: str | None = strawberry.field(
        description="Why the test failed: the connection error, or the non-2xx status."
    )


# Replay -------------------------------------------------------------------------------------


@strawberry.input(name="AuditEventsStreamingDestinationReplayInput")
class ReplayInput:
    destination_id: AnyDestinationID = strawberry.field(description=ANY_ID)
    created_after: datetime = strawberry.field(description="Replay events created at or after.")
    created_before: datetime = strawberry.field(
        description="Replay events created at or before (at most 30 days after createdAfter)."
    )
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.input(name="AuditEventsStreamingDestinationInstanceReplayInput")
class InstanceReplayInput:
    destination_id: AnyDestinationID = strawberry.field(description=ANY_ID)
    created_after: datetime = strawberry.field(description="Replay events created at or after.")
    created_before: datetime = strawberry.field(
        description="Replay events created at or before (at most 30 days after createdAfter)."
    )
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.type(name="AuditEventsStreamingDestinationReplayPayload")
class ReplayPayload:
    client_mutation_id: str | None
    errors: list[str]
    queued_count: int | None = strawberry.field(description="Events queued for delivery again.")


# Retry failed -------------------------------------------------------------------------------


@strawberry.input(name="AuditEventsStreamingDestinationRetryFailedInput")
class RetryFailedInput:
    destination_id: AnyDestinationID = strawberry.field(description=ANY_ID)
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.input(name="AuditEventsStreamingDestinationInstanceRetryFailedInput")
class InstanceRetryFailedInput:
    destination_id: AnyDestinationID = strawberry.field(description=ANY_ID)
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.type(name="AuditEventsStreamingDestinationRetryFailedPayload")
class RetryFailedPayload:
    client_mutation_id: str | None
    errors: list[str]
    queued_count: int | None = strawberry.field(description="Failed deliveries queued again.")


async def _test(
    info: Info, destination: AnyDestinationID, client_id: str | None, kind: OwnerKind
) -> TestPayload:
    sent, errors = await attempt(delivery(info).send_test(actor(info), destination.id, kind=kind))
    return TestPayload(
        client_mutation_id=client_id,
        errors=errors,
        event_id=strawberry.ID(str(sent.event_id)) if sent else None,
        status_code=sent.status_code if sent else None,
        duration_ms=sent.duration_ms if sent else None,
        error=sent.error if sent else None,
    )


async def _replay(
    info: Info, input: ReplayInput | InstanceReplayInput, kind: OwnerKind
) -> ReplayPayload:
    queued, errors = await attempt(
        delivery(info).replay(
            actor(info),
            input.destination_id.id,
            kind=kind,
            created_after=input.created_after,
            created_before=input.created_before,
        )
    )
    return ReplayPayload(
        client_mutation_id=given(input.client_mutation_id), errors=errors, queued_count=queued
    )


async def _retry(
    info: Info, destination: AnyDestinationID, client_id: str | None, kind: OwnerKind
) -> RetryFailedPayload:
    queued, errors = await attempt(
        delivery(info).retry_failed(actor(info), destination.id, kind=kind)
    )
    return RetryFailedPayload(client_mutation_id=client_id, errors=errors, queued_count=queued)


@strawberry.type
class DeliveryMutations:
    @strawberry.mutation(
        name="auditEventsStreamingDestinationTest",
        description="Send one test event to a group's streaming destination right away.",
    )
    async def test(self, info: Info, input: TestInput) -> TestPayload | None:
        return await _test(
            info, input.destination_id, given(input.client_mutation_id), OwnerKind.GROUP
        )

    @strawberry.mutation(
        name="auditEventsStreamingDestinationInstanceTest",
        description="Send one test event to an instance streaming destination right away.",
    )
    async def instance_test(self, info: Info, input: InstanceTestInput) -> TestPayload | None:
        return await _test(
            info, input.destination_id, given(input.client_mutation_id), OwnerKind.INSTANCE
        )

    @strawberry.mutation(
        name="auditEventsStreamingDestinationReplay",
        description="Queue the group's stored audit events of a window (at most 30 days) that "
        "match the destination's filters for delivery again.",
    )
    async def replay(self, info: Info, input: ReplayInput) -> ReplayPayload | None:
        return await _replay(info, input, OwnerKind.GROUP)

    @strawberry.mutation(
        name="auditEventsStreamingDestinationInstanceReplay",
        description="Queue the stored audit events of a window (at most 30 days) that match "
        "the instance destination's filters for delivery again.",
    )
    async def instance_replay(self, info: Info, input: InstanceReplayInput) -> ReplayPayload | None:
        return await _replay(info, input, OwnerKind.INSTANCE)

    @strawberry.mutation(
        name="auditEventsStreamingDestinationRetryFailed",
        description="Queue the failed deliveries of a group's streaming destination again.",
    )
    async def retry_failed(self, info: Info, input: RetryFailedInput) -> RetryFailedPayload | None:
        return await _retry(
            info, input.destination_id, given(input.client_mutation_id), OwnerKind.GROUP
        )

    @strawberry.mutation(
        name="auditEventsStreamingDestinationInstanceRetryFailed",
        description="Queue the failed deliveries of an instance streaming destination again.",
    )
    async def instance_retry_failed(
        self, info: Info, input: InstanceRetryFailedInput
    ) -> RetryFailedPayload | None:
        return await _retry(
            info, input.destination_id, given(input.client_mutation_id), OwnerKind.INSTANCE
        )
