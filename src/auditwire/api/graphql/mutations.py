"""The group family of GitLab's streaming mutations (the HTTP destinations of a group)."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError

from auditwire.api.graphql._mutation import (
    actor,
    attempt,
    destinations,
    given,
    require_event_types,
)
from auditwire.api.graphql.context import Info
from auditwire.api.graphql.ids import DestinationID, HeaderID, NamespaceFilterID
from auditwire.api.graphql.types import DestinationType, HeaderType, NamespaceFilterType
from auditwire.domain.owner import OwnerKind

ONE_NAMESPACE = "One and only one of [groupPath, projectPath] arguments is required."


@strawberry.input(name="ExternalAuditEventDestinationCreateInput")
class DestinationCreateInput:
    destination_url: str = strawberry.field(description="Destination URL.")
    group_path: strawberry.ID = strawberry.field(description="Group path.")
    verification_token: str | None = strawberry.field(
        default=strawberry.UNSET, description="Verification token."
    )
    name: str | None = strawberry.field(default=strawberry.UNSET, description="Destination name.")
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.type(name="ExternalAuditEventDestinationCreatePayload")
class DestinationCreatePayload:
    client_mutation_id: str | None
    errors: list[str]
    external_audit_event_destination: DestinationType | None


@strawberry.input(name="ExternalAuditEventDestinationUpdateInput")
class DestinationUpdateInput:
    id: DestinationID
    destination_url: str | None = strawberry.UNSET
    name: str | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.type(name="ExternalAuditEventDestinationUpdatePayload")
class DestinationUpdatePayload:
    client_mutation_id: str | None
    errors: list[str]
    external_audit_event_destination: DestinationType | None


@strawberry.input(name="ExternalAuditEventDestinationDestroyInput")
class DestinationDestroyInput:
    id: DestinationID
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.type(name="ExternalAuditEventDestinationDestroyPayload")
class DestinationDestroyPayload:
    client_mutation_id: str | None
    errors: list[str]


@strawberry.input(name="AuditEventsStreamingHeadersCreateInput")
class HeaderCreateInput:
    destination_id: DestinationID
    key: str
    value: str
    active: bool = True
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.type(name="AuditEventsStreamingHeadersCreatePayload")
class HeaderCreatePayload:
    client_mutation_id: str | None
    errors: list[str]
    header: HeaderType | None


@strawberry.input(name="AuditEventsStreamingHeadersUpdateInput")
class HeaderUpdateInput:
    header_id: HeaderID
    key: str | None = strawberry.UNSET
    value: str | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.type(name="AuditEventsStreamingHeadersUpdatePayload")
class HeaderUpdatePayload:
    client_mutation_id: str | None
    errors: list[str]
    header: HeaderType | None


@strawberry.input(name="AuditEventsStreamingHeadersDestroyInput")
class HeaderDestroyInput:
    header_id: HeaderID
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.type(name="AuditEventsStreamingHeadersDestroyPayload")
class HeaderDestroyPayload:
    client_mutation_id: str | None
    errors: list[str]


@strawberry.input(name="AuditEventsStreamingDestinationEventsAddInput")
class EventsAddInput:
    destination_id: DestinationID
    event_type_filters: list[str]
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.type(name="AuditEventsStreamingDestinationEventsAddPayload")
class EventsAddPayload:
    client_mutation_id: str | None
    errors: list[str]
    event_type_filters: list[str] | None


@strawberry.input(name="AuditEventsStreamingDestinationEventsRemoveInput")
class EventsRemoveInput:
    destination_id: DestinationID
    event_type_filters: list[str]
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.type(name="AuditEventsStreamingDestinationEventsRemovePayload")
class EventsRemovePayload:
    client_mutation_id: str | None
    errors: list[str]


@strawberry.input(name="AuditEventsStreamingHTTPNamespaceFiltersAddInput")
class NamespaceFilterAddInput:
    destination_id: DestinationID
    group_path: strawberry.ID | None = strawberry.UNSET
    project_path: strawberry.ID | None = strawberry.UNSET
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.type(name="AuditEventsStreamingHTTPNamespaceFiltersAddPayload")
class NamespaceFilterAddPayload:
    client_mutation_id: str | None
    errors: list[str]
    namespace_filter: NamespaceFilterType | None


@strawberry.input(name="AuditEventsStreamingHTTPNamespaceFiltersDeleteInput")
class NamespaceFilterDeleteInput:
    namespace_filter_id: NamespaceFilterID
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.type(name="AuditEventsStreamingHTTPNamespaceFiltersDeletePayload")
class NamespaceFilterDeletePayload:
    client_mutation_id: str | None
    errors: list[str]


@strawberry.type
class GroupMutations:
    @strawberry.mutation(
        name="externalAuditEventDestinationCreate",
        description="Add a streaming destination to a top-level group.",
    )
    async def destination_create(
        self, info: Info, input: DestinationCreateInput
    ) -> DestinationCreatePayload | None:
        created, errors = await attempt(
            destinations(info).create_group_destination(
                actor(info),
                group_path=input.group_path,
                destination_url=input.destination_url,
                name=given(input.name),
                verification_token=given(input.verification_token),
            )
        )
        return DestinationCreatePayload(
            client_mutation_id=given(input.client_mutation_id),
            errors=errors,
            external_audit_event_destination=DestinationType(destination=created)
            if created
            else None,
        )

    @strawberry.mutation(name="externalAuditEventDestinationUpdate")
    async def destination_update(
        self, info: Info, input: DestinationUpdateInput
    ) -> DestinationUpdatePayload | None:
        updated, errors = await attempt(
            destinations(info).update_destination(
                actor(info),
                input.id,
                kind=OwnerKind.GROUP,
                destination_url=given(input.destination_url),
                name=given(input.name),
                active=given(input.active),
            )
        )
        return DestinationUpdatePayload(
            client_mutation_id=given(input.client_mutation_id),
            errors=errors,
            external_audit_event_destination=DestinationType(destination=updated)
            if updated
            else None,
        )

    @strawberry.mutation(name="externalAuditEventDestinationDestroy")
    async def destination_destroy(
        self, info: Info, input: DestinationDestroyInput
    ) -> DestinationDestroyPayload | None:
        _, errors = await attempt(
            destinations(info).destroy_destination(actor(info), input.id, kind=OwnerKind.GROUP)
        )
        return DestinationDestroyPayload(
            client_mutation_id=given(input.client_mutation_id), errors=errors
        )

    @strawberry.mutation(name="auditEventsStreamingHeadersCreate")
    async def headers_create(
        self, info: Info, input: HeaderCreateInput
    ) -> HeaderCreatePayload | None:
        header, errors = await attempt(
            destinations(info).create_header(
                actor(info),
                input.destination_id,
                kind=OwnerKind.GROUP,
                key=input.key,
                value=input.value,
                active=input.active,
            )
        )
        return HeaderCreatePayload(
            client_mutation_id=given(input.client_mutation_id),
            errors=errors,
            header=HeaderType.of(header) if header else None,
        )

    @strawberry.mutation(name="auditEventsStreamingHeadersUpdate")
    async def headers_update(
        self, info: Info, input: HeaderUpdateInput
    ) -> HeaderUpdatePayload | None:
        header, errors = await attempt(
            destinations(info).update_header(
                actor(info),
                input.header_id,
                kind=OwnerKind.GROUP,
                key=given(input.key),
                value=given(input.value),
                active=given(input.active),
            )
        )
        return HeaderUpdatePayload(
            client_mutation_id=given(input.client_mutation_id),
            errors=errors,
            header=HeaderType.of(header) if header else None,
        )

    @strawberry.mutation(name="auditEventsStreamingHeadersDestroy")
    async def headers_destroy(
        self, info: Info, input: HeaderDestroyInput
    ) -> HeaderDestroyPayload | None:
        _, errors = await attempt(
            destinations(info).destroy_header(actor(info), input.header_id, kind=OwnerKind.GROUP)
        )
        return HeaderDestroyPayload(
            client_mutation_id=given(input.client_mutation_id), errors=errors
        )

    @strawberry.mutation(name="auditEventsStreamingDestinationEventsAdd")
    async def events_add(self, info: Info, input: EventsAddInput) -> EventsAddPayload | None:
        require_event_types(input.event_type_filters)
        added, errors = await attempt(
            destinations(info).add_event_types(
                actor(info), input.destination_id, input.event_type_filters, kind=OwnerKind.GROUP
            )
        )
        return EventsAddPayload(
            client_mutation_id=given(input.client_mutation_id),
            errors=errors,
            event_type_filters=added,
        )

    @strawberry.mutation(name="auditEventsStreamingDestinationEventsRemove")
    async def events_remove(
        self, info: Info, input: EventsRemoveInput
    ) -> EventsRemovePayload | None:
        require_event_types(input.event_type_filters)
        _, errors = await attempt(
            destinations(info).remove_event_types(
                actor(info), input.destination_id, input.event_type_filters, kind=OwnerKind.GROUP
            )
        )
        return EventsRemovePayload(
            client_mutation_id=given(input.client_mutation_id), errors=errors
        )

    @strawberry.mutation(name="auditEventsStreamingHTTPNamespaceFiltersAdd")
    async def namespace_filters_add(
        self, info: Info, input: NamespaceFilterAddInput
    ) -> NamespaceFilterAddPayload | None:
        group_path, project_path = given(input.group_path), given(input.project_path)
        if (group_path is None) == (project_path is None):
            raise GraphQLError(ONE_NAMESPACE)
        created, errors = await attempt(
            destinations(info).add_namespace_filter(
                actor(info), input.destination_id, group_path=group_path, project_path=project_path
            )
        )
        return NamespaceFilterAddPayload(
            client_mutation_id=given(input.client_mutation_id),
            errors=errors,
            namespace_filter=NamespaceFilterType.of(created) if created else None,
        )

    @strawberry.mutation(name="auditEventsStreamingHTTPNamespaceFiltersDelete")
    async def namespace_filters_delete(
        self, info: Info, input: NamespaceFilterDeleteInput
    ) -> NamespaceFilterDeletePayload | None:
        _, errors = await attempt(
            destinations(info).delete_namespace_filter(actor(info), input.namespace_filter_id)
        )
        return NamespaceFilterDeletePayload(
            client_mutation_id=given(input.client_mutation_id), errors=errors
        )
