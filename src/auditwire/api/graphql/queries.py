"""The query root: the caller, groups, projects and the instance's destinations."""

from __future__ import annotations

import strawberry

from auditwire.api.graphql._args import After, Before, First, Last
from auditwire.api.graphql.context import Info
from auditwire.api.graphql.kind_types import (
    InstanceGcpConfigurationType,
    InstanceS3ConfigurationType,
)
from auditwire.api.graphql.pagination import Connection
from auditwire.api.graphql.streaming_types import InstanceStreamingDestinationType
from auditwire.api.graphql.types import (
    CurrentUser,
    GroupType,
    InstanceDestinationType,
    ProjectType,
    listing,
)
from auditwire.domain.categories import AWS, GCP, HTTP
from auditwire.domain.destinations import Destination
from auditwire.errors import NotFound


@strawberry.type
class Query:
    @strawberry.field(description="Get information about current user.")
    def current_user(self, info: Info) -> CurrentUser | None:
        found = info.context.actor
        return CurrentUser.of(found.user) if found else None

    @strawberry.field(description="Find a group.")
    async def group(self, info: Info, full_path: strawberry.ID) -> GroupType | None:
        try:
            found, _ = await info.context.services.namespaces.group(info.context.actor, full_path)
        except NotFound:
            return None
        # The namespace service also takes numeric ids; `fullPath` is a path only.
        return GroupType(group=found) if found.full_path.lower() == full_path.lower() else None

    @strawberry.field(description="Find a project.")
    async def project(self, info: Info, full_path: strawberry.ID) -> ProjectType | None:
        try:
            found, _ = await info.context.services.namespaces.project(info.context.actor, full_path)
        except NotFound:
            return None
        return ProjectType.of(found) if found.full_path.lower() == full_path.lower() else None

    @strawberry.field(
        description="Instance level external audit event destinations (administrators only)."
    )
    async def instance_external_audit_event_destinations(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[InstanceDestinationType] | None:
        found = await _instance_destinations(info, HTTP)
        return listing(found, InstanceDestinationType, first, after, last, before)

    @strawberry.field(description="Instance-level external audit event streaming destinations.")
    async def audit_events_instance_streaming_destinations(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[InstanceStreamingDestinationType] | None:
        found = await _instance_destinations(info, None)
        return listing(found, InstanceStreamingDestinationType, first, after, last, before)

    @strawberry.field(description="Instance level google cloud logging configurations.")
    async def instance_google_cloud_logging_configurations(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[InstanceGcpConfigurationType] | None:
        found = await _instance_destinations(info, GCP)
        return listing(found, InstanceGcpConfigurationType, first, after, last, before)

    @strawberry.field(description="Instance-level Amazon S3 configurations for audit events.")
    async def audit_events_instance_amazon_s3_configurations(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[InstanceS3ConfigurationType] | None:
        found = await _instance_destinations(info, AWS)
        return listing(found, InstanceS3ConfigurationType, first, after, last, before)


async def _instance_destinations(info: Info, category: str | None) -> list[Destination] | None:
    return await info.context.services.destinations.instance_destinations(
        info.context.actor, category
    )
