"""GitLab's GraphQL object types for groups, projects, users and streaming destinations."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import strawberry

from auditwire.api.graphql import ids
from auditwire.api.graphql._args import After, Before, First, Last
from auditwire.api.graphql.context import Info
from auditwire.api.graphql.delivery_types import DeliveryFields
from auditwire.api.graphql.kind_types import GcpConfigurationType, S3ConfigurationType
from auditwire.api.graphql.pagination import Connection, connection
from auditwire.api.graphql.streaming_types import (
    GroupStreamingDestinationType,
    NamespaceType,
    owning_group,
)
from auditwire.domain.categories import AWS, GCP, HTTP
from auditwire.domain.destinations import Destination, Header, NamespaceFilter
from auditwire.domain.namespaces import Group, Project, User
from auditwire.domain.owner import OwnerKind


@strawberry.type(name="CurrentUser", description="The user who is making the request.")
class CurrentUser:
    id: strawberry.ID
    username: str
    name: str

    @classmethod
    def of(cls, user: User) -> CurrentUser:
        return cls(id=ids.gid(ids.USER, user.id), username=user.username, name=user.name)


@strawberry.type(name="Project")
class ProjectType:
    id: strawberry.ID
    name: str
    full_path: strawberry.ID

    @classmethod
    def of(cls, project: Project) -> ProjectType:
        return cls(
            id=ids.gid(ids.PROJECT, project.id),
            name=project.name,
            full_path=strawberry.ID(project.full_path),
        )


@strawberry.type(
    name="AuditEventStreamingHeader",
    description="A HTTP header key/value that belongs to an audit streaming destination.",
)
class HeaderType:
    id: strawberry.ID
    key: str
    value: str
    active: bool

    @classmethod
    def of(cls, header: Header) -> HeaderType:
        return cls(
            id=ids.gid(ids.HEADER, header.id),
            key=header.key,
            value=header.value,
            active=header.active,
        )


@strawberry.type(
    name="AuditEventsStreamingInstanceHeader",
    description=(
        "A HTTP header key/value that belongs to an instance level audit streaming destination."
    ),
)
class InstanceHeaderType:
    id: strawberry.ID
    key: str
    value: str
    active: bool

    @classmethod
    def of(cls, header: Header) -> InstanceHeaderType:
        return cls(
            id=ids.gid(ids.INSTANCE_HEADER, header.id),
            key=header.key,
            value=header.value,
            active=header.active,
        )


@strawberry.type(
    name="AuditEventsStreamingHTTPNamespaceFilter",
    description=(
        "A subgroup or project filter that belongs to an external audit event streaming "
        "destination."
    ),
)
class NamespaceFilterType:
    id: strawberry.ID
    namespace: NamespaceType

    @classmethod
    def of(cls, found: NamespaceFilter) -> NamespaceFilterType:
        return cls(id=ids.gid(ids.NAMESPACE_FILTER, found.id), namespace=NamespaceType.of(found))


@strawberry.type
class _DestinationFields(DeliveryFields):
    """Fields group and instance destinations share; each subclass adds its own id and links."""

    @strawberry.field(description="Name of the external destination to send audit events to.")
    def name(self) -> str:
        return self.destination.name

    @strawberry.field(description="External destination to send audit events to.")
    def destination_url(self) -> str:
        return self.destination.destination_url

    @strawberry.field(description="Verification token to validate source of event.")
    def verification_token(self) -> str:
        return self.destination.verification_token

    @strawberry.field(
        description="Standard Webhooks secret (`whsec_…`) the events sent to this destination "
        "are signed with."
    )
    def signing_secret(self) -> str:
        return self.destination.signing_secret

    @strawberry.field(description="Active status of the destination.")
    def active(self) -> bool:
        return self.destination.active

    @strawberry.field(description="List of event type filters added for streaming.")
    def event_type_filters(self) -> list[str]:
        return self.destination.event_types


@strawberry.type(
    name="ExternalAuditEventDestination",
    description="Represents an external resource to send audit events to.",
)
class DestinationType(_DestinationFields):
    @strawberry.field(description="ID of the destination.")
    def id(self) -> strawberry.ID:
        return ids.gid(ids.DESTINATION, self.destination.id)

    @strawberry.field(description="List of subgroup or project filters for the destination.")
    def namespace_filter(self) -> NamespaceFilterType | None:
        found = self.destination.namespace_filter
        return NamespaceFilterType.of(found) if found else None

    @strawberry.field(description="List of additional HTTP headers sent with each event.")
    def headers(
        self,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[HeaderType]:
        return connection(
            self.destination.headers,
            HeaderType.of,
            lambda h: h.id,
            first=first,
            after=after,
            last=last,
            before=before,
        )

    @strawberry.field(description="Group the destination belongs to.")
    async def group(self, info: Info) -> GroupType:
        return await owning_group(info, self.destination)


@strawberry.type(
    name="InstanceExternalAuditEventDestination",
    description="Represents an external resource to send instance audit events to.",
)
class InstanceDestinationType(_DestinationFields):
    kind = OwnerKind.INSTANCE

    @strawberry.field(description="ID of the destination.")
    def id(self) -> strawberry.ID:
        return ids.gid(ids.INSTANCE_DESTINATION, self.destination.id)

    @strawberry.field(description="List of additional HTTP headers sent with each event.")
    def headers(
        self,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[InstanceHeaderType]:
        return connection(
            self.destination.headers,
            InstanceHeaderType.of,
            lambda h: h.id,
            first=first,
            after=after,
            last=last,
            before=before,
        )


@strawberry.type(name="Group")
class GroupType:
    group: strawberry.Private[Group]

    @strawberry.field(description="ID of the namespace.")
    def id(self) -> strawberry.ID:
        return ids.gid(ids.GROUP, self.group.id)

    @strawberry.field(description="Name of the namespace.")
    def name(self) -> str:
        return self.group.name

    @strawberry.field(description="Path of the namespace.")
    def path(self) -> str:
        return self.group.path

    @strawberry.field(description="Full path of the namespace.")
    def full_path(self) -> strawberry.ID:
        return strawberry.ID(self.group.full_path)

    @strawberry.field(
        description="External locations that receive audit events belonging to the group."
    )
    async def external_audit_event_destinations(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[DestinationType] | None:
        found = await self._destinations(info, HTTP)
        return listing(found, DestinationType, first, after, last, before)

    @strawberry.field(
        description="External destinations that receive audit events belonging to the group."
    )
    async def external_audit_event_streaming_destinations(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[GroupStreamingDestinationType] | None:
        found = await self._destinations(info, None)
        return listing(found, GroupStreamingDestinationType, first, after, last, before)

    @strawberry.field(
        description="Google Cloud logging configurations that receive audit events belonging "
        "to the group."
    )
    async def google_cloud_logging_configurations(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[GcpConfigurationType] | None:
        found = await self._destinations(info, GCP)
        return listing(found, GcpConfigurationType, first, after, last, before)

    @strawberry.field(
        description="Amazon S3 configurations that receive audit events belonging to the group."
    )
    async def amazon_s3_configurations(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[S3ConfigurationType] | None:
        found = await self._destinations(info, AWS)
        return listing(found, S3ConfigurationType, first, after, last, before)

    async def _destinations(self, info: Info, category: str | None) -> list[Destination] | None:
        return await info.context.services.destinations.group_destinations(
            info.context.actor, self.group, category
        )


V = TypeVar("V", bound=DeliveryFields)


def listing(
    found: list[Destination] | None,
    view: Callable[..., V],
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> Connection[V] | None:
    """A page of destinations seen through one family's type; None when the caller may not
    see them."""
    if found is None:
        return None
    return connection(
        found,
        lambda d: view(destination=d),
        lambda d: d.id,
        first=first,
        after=after,
        last=last,
        before=before,
    )
