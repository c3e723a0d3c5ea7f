"""The consolidated streaming API's filters: event types and namespaces (up to five) of a
group's or the instance's destination."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError

from auditwire.api.graphql._mutation import (
    actor,
    attempt,
    destinations,
    given,
    managed,
    require_event_types,
)
from auditwire.api.graphql.context import Info
from auditwire.api.graphql.ids import (
    GroupNamespaceFilterID,
    GroupStreamingDestinationID,
    InstanceNamespaceFilterID,
    InstanceStreamingDestinationID,
)
from auditwire.api.graphql.streaming_types import (
    GroupNamespaceFilterType,
    InstanceNamespaceFilterType,
)
from auditwire.domain.destinations import NAMESPACE_NOT_FOUND, NamespaceFilter
from auditwire.domain.owner import OwnerKind

DESTINATION_ID = "Destination id."
ADD_TYPES = "List of event type filters to add for streaming."
REMOVE_TYPES = "List of event type filters to remove from streaming."
NAMESPACE_PATH = "Full path of the namespace(only project or group)."


@strawberry.input(name="AuditEventsGroupDestinationEventsAddInput")
class GroupEventsAddInput:
    destination_id: GroupStreamingDestinationID = strawberry.field(description=DESTINATION_ID)
    event_type_filters: list[str] = strawberry.field(description=ADD_TYPES)
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.input(name="AuditEventsInstanceDestinationEventsAddInput")
class InstanceEventsAddInput:
    destination_id: InstanceStreamingDestinationID = strawberry.field(description=DESTINATION_ID)
    event_type_filters: list[str] = strawberry.field(description=ADD_TYPES)
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.input(name="AuditEventsGroupDestinationEventsDeleteInput")
class GroupEventsDeleteInput:
    destination_id: GroupStreamingDestinationID = strawberry.field(description=DESTINATION_ID)
    event_type_filters: list[str] = strawberry.field(description=REMOVE_TYPES)
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.input(name="AuditEventsInstanceDestinationEventsDeleteInput")
class InstanceEventsDeleteInput:
    destination_id: InstanceStreamingDestinationID = strawberry.field(description=DESTINATION_ID)
    event_type_filters: list[str] = strawberry.field(description=REMOVE_TYPES)
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.type(name="AuditEventsGroupDestinationEventsAddPayload")
class GroupEventsAddPayload:
    client_mutation_id: str | None
    errors: list[str]
    event_type_filters: list[str] | None = strawberry.field(
        description="List of event type filters for the audit event external destination."
    )


@strawberry.type(name="AuditEventsInstanceDestinationEventsAddPayload")
class InstanceEventsAddPayload:
    client_mutation_id: str | None
    errors: list[str]
    event_type_filters: list[str] | None = strawberry.field(
        description="List of event type filters for the audit event external destination."
    )


@strawberry.type(name="AuditEventsGroupDestinationEventsDeletePayload")
class GroupEventsDeletePayload:
    client_mutation_id: str | None
    errors: list[str]


@strawberry.type(name="AuditEventsInstanceDestinationEventsDeletePayload")
class InstanceEventsDeletePayload:
    client_mutation_id: str | None
    errors: list[str]


@strawberry.input(name="AuditEventsGroupDestinationNamespaceFilterCreateInput")
class GroupFilterCreateInput:
    destination_id: GroupStreamingDestinationID = strawberry.field(description="Destination ID.")
    namespace_path: str | None = strawberry.field(
        default=strawberry.UNSET, description=NAMESPACE_PATH
    )
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.input(name="AuditEventsInstanceDestinationNamespaceFilterCreateInput")
class InstanceFilterCreateInput:
    destination_id: InstanceStreamingDestinationID = strawberry.field(description="Destination ID.")
    namespace_path: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Full path of the namespace. Project or group namespaces only.",
    )
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.type(name="AuditEventsGroupDestinationNamespaceFilterCreatePayload")
class GroupFilterCreatePayload:
    client_mutation_id: str | None
    errors: list[str]
    namespace_filter: GroupNamespaceFilterType | None = strawberry.field(
        description="Namespace filter created."
    )


@strawberry.type(name="AuditEventsInstanceDestinationNamespaceFilterCreatePayload")
class InstanceFilterCreatePayload:
    client_mutation_id: str | None
    errors: list[str]
    namespace_filter: InstanceNamespaceFilterType | None = strawberry.field(
        description="Namespace filter to be created."
    )


@strawberry.input(name="AuditEventsGroupDestinationNamespaceFilterDeleteInput")
class GroupFilterDeleteInput:
    namespace_filter_id: GroupNamespaceFilterID = strawberry.field(
        description="Namespace filter ID."
    )
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.input(name="AuditEventsInstanceDestinationNamespaceFilterDeleteInput")
class InstanceFilterDeleteInput:
    namespace_filter_id: InstanceNamespaceFilterID = strawberry.field(
        description="Namespace filter ID."
    )
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.type(name="AuditEventsGroupDestinationNamespaceFilterDeletePayload")
class GroupFilterDeletePayload:
    client_mutation_id: str | None
    errors: list[str]


@strawberry.type(name="AuditEventsInstanceDestinationNamespaceFilterDeletePayload")
class InstanceFilterDeletePayload:
    client_mutation_id: str | None
    errors: list[str]


async def _add(
    info: Info, input: GroupEventsAddInput | InstanceEventsAddInput, kind: OwnerKind
) -> tuple[list[str] | None, list[str]]:
    require_event_types(input.event_type_filters)
    return await attempt(
        destinations(info).add_event_types(
            actor(info), input.destination_id, input.event_type_filters, kind=kind
        )
    )


async def _remove(
    info: Info, input: GroupEventsDeleteInput | InstanceEventsDeleteInput, kind: OwnerKind
) -> list[str]:
    require_event_types(input.event_type_filters)
    _, errors = await attempt(
        destinations(info).remove_event_types(
            actor(info), input.destination_id, input.event_type_filters, kind=kind
        )
    )
    return errors


async def _filter(
    info: Info, input: GroupFilterCreateInput | InstanceFilterCreateInput, kind: OwnerKind
) -> tuple[NamespaceFilter | None, list[str]]:
    """GitLab finds the destination (authorizing) before the namespace, and answers a path
    that names neither a group nor a project with a top-level error."""
    await managed(info, input.destination_id, kind)
    created, errors = await attempt(
        destinations(info).namespace_path_filter(
            actor(info), input.destination_id, given(input.namespace_path) or "", kind=kind
        )
    )
    if errors == [NAMESPACE_NOT_FOUND]:
        raise GraphQLError(NAMESPACE_NOT_FOUND)
    return created, errors


async def _unfilter(info: Info, filter_id: int, kind: OwnerKind) -> list[str]:
    _, errors = await attempt(
        destinations(info).delete_namespace_filter(actor(info), filter_id, kind=kind)
    )
    return errors


@strawberry.type
class StreamingFilterMutations:
    @strawberry.mutation(name="auditEventsGroupDestinationEventsAdd")
    async def streaming_group_events_add(
        self, info: Info, input: GroupEventsAddInput
    ) -> GroupEventsAddPayload | None:
        added, errors = await _add(info, input, OwnerKind.GROUP)
        return GroupEventsAddPayload(
            client_mutation_id=given(input.client_mutation_id),
            errors=errors,
            event_type_filters=added,
        )

    @strawberry.mutation(name="auditEventsGroupDestinationEventsDelete")
    async def streaming_group_events_delete(
        self, info: Info, input: GroupEventsDeleteInput
    ) -> GroupEventsDeletePayload | None:
        errors = await _remove(info, input, OwnerKind.GROUP)
        return GroupEventsDeletePayload(
            client_mutation_id=given(input.client_mutation_id), errors=errors
        )

    @strawberry.mutation(name="auditEventsInstanceDestinationEventsAdd")
    async def streaming_instance_events_add(
        self, info: Info, input: InstanceEventsAddInput
    ) -> InstanceEventsAddPayload | None:
        added, errors = await _add(info, input, OwnerKind.INSTANCE)
        return InstanceEventsAddPayload(
            client_mutation_id=given(input.client_mutation_id),
            errors=errors,
            event_type_filters=added,
        )

    @strawberry.mutation(name="auditEventsInstanceDestinationEventsDelete")
    async def streaming_instance_events_delete(
        self, info: Info, input: InstanceEventsDeleteInput
    ) -> InstanceEventsDeletePayload | None:
        errors = await _remove(info, input, OwnerKind.INSTANCE)
        return InstanceEventsDeletePayload(
            client_mutation_id=given(input.client_mutation_id), errors=errors
        )

    @strawberry.mutation(name="auditEventsGroupDestinationNamespaceFilterCreate")
    async def streaming_group_filter_create(
        self, info: Info, input: GroupFilterCreateInput
    ) -> GroupFilterCreatePayload | None:
        created, errors = await _filter(info, input, OwnerKind.GROUP)
        return GroupFilterCreatePayload(
            client_mutation_id=given(input.client_mutation_id),
            errors=errors,
            namespace_filter=GroupNamespaceFilterType(filter=created) if created else None,
        )

    @strawberry.mutation(name="auditEventsGroupDestinationNamespaceFilterDelete")
    async def streaming_group_filter_delete(
        self, info: Info, input: GroupFilterDeleteInput
    ) -> GroupFilterDeletePayload | None:
        errors = await _unfilter(info, input.namespace_filter_id, OwnerKind.GROUP)
        return GroupFilterDeletePayload(
            client_mutation_id=given(input.client_mutation_id), errors=errors
        )

    @strawberry.mutation(name="auditEventsInstanceDestinationNamespaceFilterCreate")
    async def streaming_instance_filter_create(
        self, info: Info, input: InstanceFilterCreateInput
    ) -> InstanceFilterCreatePayload | None:
        created, errors = await _filter(info, input, OwnerKind.INSTANCE)
        return InstanceFilterCreatePayload(
            client_mutation_id=given(input.client_mutation_id),
            errors=errors,
            namespace_filter=InstanceNamespaceFilterType(filter=created) if created else None,
        )

    @strawberry.mutation(name="auditEventsInstanceDestinationNamespaceFilterDelete")
    async def streaming_instance_filter_delete(
        self, info: Info, input: InstanceFilterDeleteInput
    ) -> InstanceFilterDeletePayload | None:
        errors = await _unfilter(info, input.namespace_filter_id, OwnerKind.INSTANCE)
        return InstanceFilterDeletePayload(
            client_mutation_id=given(input.client_mutation_id), errors=errors
        )
