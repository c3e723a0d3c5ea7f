"""The query root: the caller, groups, projects and the instance's destinations."""

from __future__ import annotations

import strawberry

from auditwire.api.graphql.context import Info
from auditwire.api.graphql.pagination import Connection, connection
from auditwire.api.graphql.types import (
    After,
    Before,
    CurrentUser,
    First,
    GroupType,
    InstanceDestinationType,
    Last,
    ProjectType,
)
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
        found = await info.context.services.destinations.instance_destinations(info.context.actor)
        if found is None:
            return None
        return connection(
            found,
            lambda d: InstanceDestinationType(destination=d),
            lambda d: d.id,
            first=first,
            after=after,
            last=last,
            before=before,
        )
