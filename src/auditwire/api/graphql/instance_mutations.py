"""The instance family of GitLab's streaming mutations, for administrators."""

from __future__ import annotations

import strawberry

from auditwire.api.graphql._mutation import (
    actor,
    attempt,
    destinations,
    given,
    require_event_types,
)
from auditwire.api.graphql.context import Info
from auditwire.api.graphql.ids import InstanceDestinationID, InstanceHeaderID
from auditwire.api.graphql.types import InstanceDestinationType, InstanceHeaderType
from auditwire.domain.owner import OwnerKind


@strawberry.input(name="InstanceExternalAuditEventDestinationCreateInput")
class InstanceDestinationCreateInput:
    destination_url: str
    name: str | None = strawberry.UNSET
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.type(name="InstanceExternalAuditEventDestinationCreatePayload")
class InstanceDestinationCreatePayload:
    client_mutation_id: str | None
    errors: list[str]
    instance_external_audit_event_destination: InstanceDestinationType | None


@strawberry.input(name="InstanceExternalAuditEventDestinationUpdateInput")
class InstanceDestinationUpdateInput:
    id: InstanceDestinationID
    destination_url: str | None = strawberry.UNSET
    name: str | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.type(name="InstanceExternalAuditEventDestinationUpdatePayload")
class InstanceDestinationUpdatePayload:
    client_mutation_id: str | None
    errors: list[str]
    instance_external_audit_event_destination: InstanceDestinationType | None


@strawberry.input(name="InstanceExternalAuditEventDestinationDestroyInput")
class InstanceDestinationDestroyInput:
    id: InstanceDestinationID
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.type(name="InstanceExternalAuditEventDestinationDestroyPayload")
class InstanceDestinationDestroyPayload:
    client_mutation_id: str | None
    errors: list[str]


@strawberry.input(name="AuditEventsStreamingInstanceHeadersCreateInput")
class InstanceHeaderCreateInput:
    destination_id: InstanceDestinationID
    key: str
    value: str
    active: bool = True
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.type(name="AuditEventsStreamingInstanceHeadersCreatePayload")
class InstanceHeaderCreatePayload:
    client_mutation_id: str | None
    errors: list[str]
    header: InstanceHeaderType | None


@strawberry.input(name="AuditEventsStreamingInstanceHeadersUpdateInput")
class InstanceHeaderUpdateInput:
    header_id: InstanceHeaderID
    key: str | None = strawberry.UNSET
    value: str | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.type(name="AuditEventsStreamingInstanceHeadersUpdatePayload")
class InstanceHeaderUpdatePayload:
    client_mutation_id: str | None
    errors: list[str]
    header: InstanceHeaderType | None


@strawberry.input(name="AuditEventsStreamingInstanceHeadersDestroyInput")
class InstanceHeaderDestroyInput:
    header_id: InstanceHeaderID
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.type(name="AuditEventsStreamingInstanceHeadersDestroyPayload")
class InstanceHeaderDestroyPayload:
    client_mutation_id: str | None
    errors: list[str]


@strawberry.input(name="AuditEventsStreamingDestinationInstanceEventsAddInput")
class InstanceEventsAddInput:
    destination_id: InstanceDestinationID
    event_type_filters: list[str]
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.type(name="AuditEventsStreamingDestinationInstanceEventsAddPayload")
class InstanceEventsAddPayload:
    client_mutation_id: str | None
    errors: list[str]
    event_type_filters: list[str] | None


@strawberry.input(name="AuditEventsStreamingDestinationInstanceEventsRemoveInput")
class InstanceEventsRemoveInput:
    destination_id: InstanceDestinationID
    event_type_filters: list[str]
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.type(name="AuditEventsStreamingDestinationInstanceEventsRemovePayload")
class InstanceEventsRemovePayload:
    client_mutation_id: str | None
    errors: list[str]


@strawberry.type
class InstanceMutations:
    @strawberry.mutation(
        name="instanceExternalAuditEventDestinationCreate",
        description="Add a streaming destination for every audit event of the instance.",
    )
    async def instance_destination_create(
        self, info: Info, input: InstanceDestinationCreateInput
    ) -> InstanceDestinationCreatePayload | None:
        created, errors = await attempt(
            destinations(info).create_instance_destination(
                actor(info), destination_url=input.destination_url, name=given(input.name)
            )
        )
        return InstanceDestinationCreatePayload(
            client_mutation_id=given(input.client_mutation_id),
            errors=errors,
            instance_external_audit_event_destination=InstanceDestinationType(destination=created)
            if created
            else None,
        )

    @strawberry.mutation(name="instanceExternalAuditEventDestinationUpdate")
    async def instance_destination_update(
        self, info: Info, input: InstanceDestinationUpdateInput
    ) -> InstanceDestinationUpdatePayload | None:
        updated, errors = await attempt(
            destinations(info).update_destination(
                actor(info),
                input.id,
                kind=OwnerKind.INSTANCE,
                destination_url=given(input.destination_url),
                name=given(input.name),
                active=given(input.active),
            )
        )
        return InstanceDestinationUpdatePayload(
            client_mutation_id=given(input.client_mutation_id),
            errors=errors,
            instance_external_audit_event_destination=InstanceDestinationType(destination=updated)
            if updated
            else None,
        )

    @strawberry.mutation(name="instanceExternalAuditEventDestinationDestroy")
    async def instance_destination_destroy(
        self, info: Info, input: InstanceDestinationDestroyInput
    ) -> InstanceDestinationDestroyPayload | None:
        _, errors = await attempt(
            destinations(info).destroy_destination(actor(info), input.id, kind=OwnerKind.INSTANCE)
        )
        return InstanceDestinationDestroyPayload(
            client_mutation_id=given(input.client_mutation_id), errors=errors
        )

    @strawberry.mutation(name="auditEventsStreamingInstanceHeadersCreate")
    async def instance_headers_create(
        self, info: Info, input: InstanceHeaderCreateInput
    ) -> InstanceHeaderCreatePayload | None:
        header, errors = await attempt(
            destinations(info).create_header(
                actor(info),
                input.destination_id,
                kind=OwnerKind.INSTANCE,
                key=input.key,
                value=input.value,
                active=input.active,
            )
        )
        return InstanceHeaderCreatePayload(
            client_mutation_id=given(input.client_mutation_id),
            errors=errors,
            header=InstanceHeaderType.of(header) if header else None,
        )

    @strawberry.mutation(name="auditEventsStreamingInstanceHeadersUpdate")
    async def instance_headers_update(
        self, info: Info, input: InstanceHeaderUpdateInput
    ) -> InstanceHeaderUpdatePayload | None:
        header, errors = await attempt(
            destinations(info).update_header(
                actor(info),
                input.header_id,
                kind=OwnerKind.INSTANCE,
                key=given(input.key),
                value=given(input.value),
                active=given(input.active),
            )
        )
        return InstanceHeaderUpdatePayload(
            client_mutation_id=given(input.client_mutation_id),
            errors=errors,
            header=InstanceHeaderType.of(header) if header else None,
        )

    @strawberry.mutation(name="auditEventsStreamingInstanceHeadersDestroy")
    async def instance_headers_destroy(
        self, info: Info, input: InstanceHeaderDestroyInput
    ) -> InstanceHeaderDestroyPayload | None:
        _, errors = await attempt(
            destinations(info).destroy_header(actor(info), input.header_id, kind=OwnerKind.INSTANCE)
        )
        return InstanceHeaderDestroyPayload(
            client_mutation_id=given(input.client_mutation_id), errors=errors
        )

    @strawberry.mutation(name="auditEventsStreamingDestinationInstanceEventsAdd")
    async def instance_events_add(
        self, info: Info, input: InstanceEventsAddInput
    ) -> InstanceEventsAddPayload | None:
        require_event_types(input.event_type_filters)
        added, errors = await attempt(
            destinations(info).add_event_types(
                actor(info), input.destination_id, input.event_type_filters, kind=OwnerKind.INSTANCE
            )
        )
        return InstanceEventsAddPayload(
            client_mutation_id=given(input.client_mutation_id),
            errors=errors,
            event_type_filters=added,
        )

    @strawberry.mutation(name="auditEventsStreamingDestinationInstanceEventsRemove")
    async def instance_events_remove(
        self, info: Info, input: InstanceEventsRemoveInput
    ) -> InstanceEventsRemovePayload | None:
        require_event_types(input.event_type_filters)
        _, errors = await attempt(
            destinations(info).remove_event_types(
                actor(info), input.destination_id, input.event_type_filters, kind=OwnerKind.INSTANCE
            )
        )
        return InstanceEventsRemovePayload(
            client_mutation_id=given(input.client_mutation_id), errors=errors
        )
