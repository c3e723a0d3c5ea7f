"""GitLab's types of the consolidated streaming API (`GroupAuditEventStreamingDestination`,
`InstanceAuditEventStreamingDestination` and their namespace filters), and what every
destination type of a group shares: the namespace a filter names, the group it belongs to.

A destination's `group` is typed lazily: `Group` lists destinations of every family, so the
modules of those types cannot import `types` at import time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, ClassVar

import strawberry
from strawberry.scalars import JSON

from auditwire.api.graphql import ids
from auditwire.api.graphql.context import Info
from auditwire.api.graphql.delivery_types import DeliveryFields
from auditwire.domain.categories import HTTP
from auditwire.domain.destinations import Destination, NamespaceFilter
from auditwire.domain.owner import OwnerKind

if TYPE_CHECKING:
    from auditwire.api.graphql.types import GroupType

LazyGroup = Annotated["GroupType", strawberry.lazy("auditwire.api.graphql.types")]


@strawberry.type(name="Namespace", description="A group, or the namespace of a project.")
class NamespaceType:
    id: strawberry.ID
    name: str
    full_path: strawberry.ID

    @classmethod
    def of(cls, found: NamespaceFilter) -> NamespaceType:
        """The namespace a filter names: a group, or a project's namespace."""
        if found.project_id is not None:
            namespace_id = ids.gid(ids.PROJECT_NAMESPACE, found.project_id)
        else:
            namespace_id = ids.gid(ids.GROUP, found.group_id or 0)
        return cls(
            id=namespace_id,
            name=found.namespace_name,
            full_path=strawberry.ID(found.namespace_path),
        )


async def owning_group(info: Info, destination: Destination) -> GroupType:
    """The group a group destination belongs to."""
    from auditwire.api.graphql.types import GroupType

    assert destination.group_id is not None  # a group destination
    group, _ = await info.context.services.namespaces.group(
        info.context.actor, destination.group_id
    )
    return GroupType(group=group)


async def _destination(info: Info, destination_id: int, kind: OwnerKind) -> Destination:
    found, _ = await info.context.services.destinations.get(
        info.context.actor, destination_id, kind=kind
    )
    return found


@strawberry.type(
    name="GroupAuditEventNamespaceFilter",
    description="Represents a subgroup or project filter that belongs to a group level external "
    "audit event streaming destination.",
)
class GroupNamespaceFilterType:
    filter: strawberry.Private[NamespaceFilter]
    model: ClassVar[str] = ids.GROUP_NAMESPACE_FILTER

    @strawberry.field(description="ID of the filter.")
    def id(self) -> strawberry.ID:
        return ids.gid(self.model, self.filter.id)

    @strawberry.field(description="Group or project namespace the filter belongs to.")
    def namespace(self) -> NamespaceType:
        return NamespaceType.of(self.filter)

    @strawberry.field(description="Destination to which the filter belongs.")
    async def external_streaming_destination(self, info: Info) -> GroupStreamingDestinationType:
        found = await _destination(info, self.filter.destination_id, OwnerKind.GROUP)
        return GroupStreamingDestinationType(destination=found)


@strawberry.type(
    name="InstanceAuditEventNamespaceFilter",
    description="Represents a subgroup or project filter that belongs to an instance level "
    "external audit event streaming destination.",
)
class InstanceNamespaceFilterType:
    filter: strawberry.Private[NamespaceFilter]
    model: ClassVar[str] = ids.INSTANCE_NAMESPACE_FILTER

    @strawberry.field(description="ID of the filter.")
    def id(self) -> strawberry.ID:
        return ids.gid(self.model, self.filter.id)

    @strawberry.field(description="Group or project namespace the filter belongs to.")
    def namespace(self) -> NamespaceType:
        return NamespaceType.of(self.filter)

    @strawberry.field(description="Destination to which the filter belongs.")
    async def external_streaming_destination(self, info: Info) -> InstanceStreamingDestinationType:
        found = await _destination(info, self.filter.destination_id, OwnerKind.INSTANCE)
        return InstanceStreamingDestinationType(destination=found)


@strawberry.type
class _StreamingFields(DeliveryFields):
    """The fields of GitLab's `AuditEventStreamingDestinationInterface`."""

    model: ClassVar[str] = ids.GROUP_STREAMING_DESTINATION

    @strawberry.field(description="ID of the destination.")
    def id(self) -> strawberry.ID:
        return ids.gid(self.model, self.destination.id)

    @strawberry.field(description="Name of the external destination to send audit events to.")
    def name(self) -> str:
        return self.destination.name

    @strawberry.field(description="Category of the external destination to send audit events to.")
    def category(self) -> str:
        return self.destination.category

    @strawberry.field(description="Config of the external destination.")
    def config(self) -> JSON:
        return JSON(self.destination.view_config)

    @strawberry.field(description="List of event type filters added for streaming.")
    def event_type_filters(self) -> list[str]:
        return self.destination.event_types

    @strawberry.field(
        description="Secret token for the destination, will be non-empty value only for http "
        "category."
    )
    def secret_token(self) -> str:
        # An S3 secret access key or a GCP private key is never shown again, as in GitLab.
        return self.destination.secret_token if self.destination.category == HTTP else ""

    @strawberry.field(description="Active status of the destination.")
    def active(self) -> bool:
        return self.destination.active


@strawberry.type(
    name="GroupAuditEventStreamingDestination",
    description="Represents an external destination to stream group level audit events.",
)
class GroupStreamingDestinationType(_StreamingFields):
    @strawberry.field(description="Group to which the destination belongs.")
    async def group(self, info: Info) -> LazyGroup:
        return await owning_group(info, self.destination)

    @strawberry.field(description="List of subgroup or project filters for the destination.")
    def namespace_filters(self) -> list[GroupNamespaceFilterType] | None:
        return [GroupNamespaceFilterType(filter=f) for f in self.destination.namespace_filters]


@strawberry.type(
    name="InstanceAuditEventStreamingDestination",
    description="Represents an external destination to stream instance level audit events.",
)
class InstanceStreamingDestinationType(_StreamingFields):
    kind = OwnerKind.INSTANCE
    model = ids.INSTANCE_STREAMING_DESTINATION

    @strawberry.field(description="List of subgroup or project filters for the destination.")
    def namespace_filters(self) -> list[InstanceNamespaceFilterType] | None:
        return [InstanceNamespaceFilterType(filter=f) for f in self.destination.namespace_filters]
