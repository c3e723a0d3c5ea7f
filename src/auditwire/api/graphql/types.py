"""GitLab's GraphQL object types for groups, projects, users and streaming destinations."""

from __future__ import annotations

from typing import Annotated, ClassVar

import strawberry

from auditwire.api.graphql import delivery_types, ids
from auditwire.api.graphql.context import Info
from auditwire.api.graphql.delivery_types import DeliveryAttemptType, DestinationHealthType
from auditwire.api.graphql.pagination import Connection, connection
from auditwire.domain.delivery_log import AttemptOutcome
from auditwire.domain.destinations import Destination, Header, NamespaceFilter
from auditwire.domain.namespaces import Group, Project, User
from auditwire.domain.owner import OwnerKind

First = Annotated[
    int | None, strawberry.argument(description="Returns the first _n_ elements from the list.")
]
Last = Annotated[
    int | None, strawberry.argument(description="Returns the last _n_ elements from the list.")
]
After = Annotated[
    str | None,
    strawberry.argument(description="Returns the elements in the list that come after the cursor."),
]
Before = Annotated[
    str | None,
    strawberry.argument(
        description="Returns the elements in the list that come before the cursor."
    ),
]
OutcomeFilter = Annotated[
    AttemptOutcome | None, strawberry.argument(description="Only attempts with this outcome.")
]


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


@strawberry.type(name="Namespace", description="A group, or the namespace of a project.")
class NamespaceType:
    id: strawberry.ID
    name: str
    full_path: strawberry.ID


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
        if found.project_id is not None:
            namespace_id = ids.gid(ids.PROJECT_NAMESPACE, found.project_id)
        else:
            namespace_id = ids.gid(ids.GROUP, found.group_id or 0)
        return cls(
            id=ids.gid(ids.NAMESPACE_FILTER, found.id),
            namespace=NamespaceType(
                id=namespace_id,
                name=found.namespace_name,
                full_path=strawberry.ID(found.namespace_path),
            ),
        )


@strawberry.type
class _DestinationFields:
    """Fields group and instance destinations share; each subclass adds its own id and links."""

    destination: strawberry.Private[Destination]
    kind: ClassVar[OwnerKind] = OwnerKind.GROUP

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

    @strawberry.field(description="How delivery to the destination is going.")
    async def health(self, info: Info) -> DestinationHealthType:
        return await delivery_types.health(info, self.destination.id, kind=self.kind)

    @strawberry.field(description="Recent delivery attempts to the destination, newest first.")
    async def deliveries(
        self, info: Info, first: First = None, after: After = None, outcome: OutcomeFilter = None
    ) -> Connection[DeliveryAttemptType]:
        return await delivery_types.deliveries(
            info,
            self.destination.id,
            kind=self.kind,
            first=first,
            after=after,
            outcome=outcome,
        )


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

    @strawberry.field(description="How delivery to the destination is going.")
    async def health(self, info: Info) -> DestinationHealthType:
        return await delivery_types.health(info, self.destination.id, kind=OwnerKind.GROUP)

    @strawberry.field(description="Recent delivery attempts to the destination, newest first.")
    async def deliveries(
        self, info: Info, first: First = None, after: After = None, outcome: OutcomeFilter = None
    ) -> Connection[DeliveryAttemptType]:
        return await delivery_types.deliveries(
            info,
            self.destination.id,
            kind=OwnerKind.GROUP,
            first=first,
            after=after,
            outcome=outcome,
        )

    @strawberry.field(description="Group the destination belongs to.")
    async def group(self, info: Info) -> GroupType:
        assert self.destination.group_id is not None  # a group destination
        group, _ = await info.context.services.namespaces.group(
            info.context.actor, self.destination.group_id
        )
        return GroupType(group=group)


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
        found = await info.context.services.destinations.group_destinations(
            info.context.actor, self.group
        )
        if found is None:
            return None
        return connection(
            found,
            lambda d: DestinationType(destination=d),
            lambda d: d.id,
            first=first,
            after=after,
            last=last,
            before=before,
        )
