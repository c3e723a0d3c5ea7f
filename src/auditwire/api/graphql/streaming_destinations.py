"""The consolidated streaming API's destinations (GitLab 16.11+): create, update and delete a
group's or the instance's destination of any category (`http`, `aws`, `gcp`)."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from auditwire.api.graphql._mutation import (
    actor,
    attempt,
    destinations,
    given,
    instance_owner,
    view,
)
from auditwire.api.graphql.context import Info
from auditwire.api.graphql.ids import GroupStreamingDestinationID, InstanceStreamingDestinationID
from auditwire.api.graphql.streaming_types import (
    GroupStreamingDestinationType,
    InstanceStreamingDestinationType,
)
from auditwire.domain.destinations import Destination
from auditwire.domain.owner import Owner, OwnerKind

CONFIG = "Destination config."
NAME = "Destination name."
CATEGORY = "Destination category."
SECRET = "Secret token."
ACTIVE = "Active status of the destination."


@strawberry.input(name="GroupAuditEventStreamingDestinationsCreateInput")
class GroupCreateInput:
    config: JSON = strawberry.field(description=CONFIG)
    category: str = strawberry.field(description=CATEGORY)
    group_path: strawberry.ID = strawberry.field(description="Group path.")
    name: str | None = strawberry.field(default=strawberry.UNSET, description=NAME)
    secret_token: str | None = strawberry.field(default=strawberry.UNSET, description=SECRET)
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.input(name="InstanceAuditEventStreamingDestinationsCreateInput")
class InstanceCreateInput:
    config: JSON = strawberry.field(description=CONFIG)
    category: str = strawberry.field(description=CATEGORY)
    name: str | None = strawberry.field(default=strawberry.UNSET, description=NAME)
    secret_token: str | None = strawberry.field(default=strawberry.UNSET, description=SECRET)
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.input
class _UpdateFields:
    config: JSON | None = strawberry.field(default=strawberry.UNSET, description=CONFIG)
    name: str | None = strawberry.field(default=strawberry.UNSET, description=NAME)
    category: str | None = strawberry.field(default=strawberry.UNSET, description=CATEGORY)
    secret_token: str | None = strawberry.field(default=strawberry.UNSET, description=SECRET)
    active: bool | None = strawberry.field(default=strawberry.UNSET, description=ACTIVE)
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.input(name="GroupAuditEventStreamingDestinationsUpdateInput")
class GroupUpdateInput(_UpdateFields):
    id: GroupStreamingDestinationID = strawberry.field(
        description="ID of external audit event destination to update."
    )


@strawberry.input(name="InstanceAuditEventStreamingDestinationsUpdateInput")
class InstanceUpdateInput(_UpdateFields):
    id: InstanceStreamingDestinationID = strawberry.field(
        description="ID of external audit event destination to update."
    )


@strawberry.input(name="GroupAuditEventStreamingDestinationsDeleteInput")
class GroupDeleteInput:
    id: GroupStreamingDestinationID = strawberry.field(
        description="ID of the audit events external streaming destination to delete."
    )
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.input(name="InstanceAuditEventStreamingDestinationsDeleteInput")
class InstanceDeleteInput:
    id: InstanceStreamingDestinationID = strawberry.field(
        description="ID of the audit events external streaming destination to delete."
    )
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.type(name="GroupAuditEventStreamingDestinationsCreatePayload")
class GroupCreatePayload:
    client_mutation_id: str | None
    errors: list[str]
    external_audit_event_destination: GroupStreamingDestinationType | None = strawberry.field(
        description="Destination created."
    )


@strawberry.type(name="GroupAuditEventStreamingDestinationsUpdatePayload")
class GroupUpdatePayload:
    client_mutation_id: str | None
    errors: list[str]
    external_audit_event_destination: GroupStreamingDestinationType | None = strawberry.field(
        description="Updated destination."
    )


@strawberry.type(name="InstanceAuditEventStreamingDestinationsCreatePayload")
class InstanceCreatePayload:
    client_mutation_id: str | None
    errors: list[str]
    external_audit_event_destination: InstanceStreamingDestinationType | None = strawberry.field(
        description="Destination created."
    )


@strawberry.type(name="InstanceAuditEventStreamingDestinationsUpdatePayload")
class InstanceUpdatePayload:
    client_mutation_id: str | None
    errors: list[str]
    external_audit_event_destination: InstanceStreamingDestinationType | None = strawberry.field(
        description="Updated destination."
    )


@strawberry.type(name="GroupAuditEventStreamingDestinationsDeletePayload")
class GroupDeletePayload:
    client_mutation_id: str | None
    errors: list[str]


@strawberry.type(name="InstanceAuditEventStreamingDestinationsDeletePayload")
class InstanceDeletePayload:
    client_mutation_id: str | None
    errors: list[str]


async def _create(
    info: Info, owner: Owner | Awaitable[Owner], input: GroupCreateInput | InstanceCreateInput
) -> Destination:
    resolved = owner if isinstance(owner, Owner) else await owner
    return await destinations(info).create(
        actor(info),
        resolved,
        category=input.category,
        # GraphQL's JSON may be anything; the category's rules refuse what is not a hash.
        config=cast(Mapping[str, Any], input.config),
        name=given(input.name),
        secret_token=given(input.secret_token),
    )


async def _update(
    info: Info, input: GroupUpdateInput | InstanceUpdateInput, kind: OwnerKind
) -> tuple[Destination | None, list[str]]:
    config: Any = given(input.config)
    return await attempt(
        destinations(info).update(
            actor(info),
            input.id,
            kind=kind,
            config=config,
            name=given(input.name),
            category=given(input.category),
            secret_token=given(input.secret_token),
            active=given(input.active),
        )
    )


async def _delete(info: Info, destination_id: int, kind: OwnerKind) -> list[str]:
    _, errors = await attempt(destinations(info).delete(actor(info), destination_id, kind=kind))
    return errors


@strawberry.type
class StreamingDestinationMutations:
    @strawberry.mutation(name="groupAuditEventStreamingDestinationsCreate")
    async def streaming_group_create(
        self, info: Info, input: GroupCreateInput
    ) -> GroupCreatePayload | None:
        owner = destinations(info).group_owner(actor(info), input.group_path)
        created, errors = await attempt(_create(info, owner, input))
        return GroupCreatePayload(
            client_mutation_id=given(input.client_mutation_id),
            errors=errors,
            external_audit_event_destination=view(GroupStreamingDestinationType, created),
        )

    @strawberry.mutation(name="groupAuditEventStreamingDestinationsUpdate")
    async def streaming_group_update(
        self, info: Info, input: GroupUpdateInput
    ) -> GroupUpdatePayload | None:
        updated, errors = await _update(info, input, OwnerKind.GROUP)
        return GroupUpdatePayload(
            client_mutation_id=given(input.client_mutation_id),
            errors=errors,
            external_audit_event_destination=view(GroupStreamingDestinationType, updated),
        )

    @strawberry.mutation(name="groupAuditEventStreamingDestinationsDelete")
    async def streaming_group_delete(
        self, info: Info, input: GroupDeleteInput
    ) -> GroupDeletePayload | None:
        errors = await _delete(info, input.id, OwnerKind.GROUP)
        return GroupDeletePayload(client_mutation_id=given(input.client_mutation_id), errors=errors)

    @strawberry.mutation(name="instanceAuditEventStreamingDestinationsCreate")
    async def streaming_instance_create(
        self, info: Info, input: InstanceCreateInput
    ) -> InstanceCreatePayload | None:
        created, errors = await attempt(_create(info, instance_owner(info), input))
        return InstanceCreatePayload(
            client_mutation_id=given(input.client_mutation_id),
            errors=errors,
            external_audit_event_destination=view(InstanceStreamingDestinationType, created),
        )

    @strawberry.mutation(name="instanceAuditEventStreamingDestinationsUpdate")
    async def streaming_instance_update(
        self, info: Info, input: InstanceUpdateInput
    ) -> InstanceUpdatePayload | None:
        updated, errors = await _update(info, input, OwnerKind.INSTANCE)
        return InstanceUpdatePayload(
            client_mutation_id=given(input.client_mutation_id),
            errors=errors,
            external_audit_event_destination=view(InstanceStreamingDestinationType, updated),
        )

    @strawberry.mutation(name="instanceAuditEventStreamingDestinationsDelete")
    async def streaming_instance_delete(
        self, info: Info, input: InstanceDeleteInput
    ) -> InstanceDeletePayload | None:
        errors = await _delete(info, input.id, OwnerKind.INSTANCE)
        return InstanceDeletePayload(
            client_mutation_id=given(input.client_mutation_id), errors=errors
        )
