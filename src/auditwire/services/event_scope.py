"""Which audit events a caller may list: the instance's, a group's or a project's."""

from __future__ import annotations

from datetime import datetime

from auditwire.domain import permissions
from auditwire.domain.events import EntityType
from auditwire.domain.namespaces import Group, Project
from auditwire.services.context import Actor
from auditwire.services.events import EventQuery
from auditwire.services.namespaces import NamespaceService


def instance_events(
    actor: Actor,
    *,
    entity_type: str | None = None,
    entity_id: int | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> EventQuery:
    """Every event of the instance: administrators only."""
    actor.require_admin()
    return EventQuery(
        entity_type=entity_type,
        entity_id=entity_id,
        created_after=created_after,
        created_before=created_before,
    )


async def group_events(
    namespaces: NamespaceService,
    actor: Actor,
    ref: str | int,
    *,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> tuple[Group, EventQuery]:
    """A group's events: all of them for owners, otherwise only the caller's own."""
    group, level = await namespaces.group(actor, ref)
    sees_all = permissions.can_read_all_group_events(actor.user, level)
    return group, EventQuery(
        entity_type=EntityType.GROUP.value,
        entity_id=group.id,
        author_id=None if sees_all else actor.user.id,
        created_after=created_after,
        created_before=created_before,
    )


async def project_events(
    namespaces: NamespaceService,
    actor: Actor,
    ref: str | int,
    *,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> tuple[Project, EventQuery]:
    """A project's events: all of them for maintainers, otherwise only the caller's own."""
    project, level = await namespaces.project(actor, ref)
    sees_all = permissions.can_read_all_project_events(actor.user, level)
    return project, EventQuery(
        entity_type=EntityType.PROJECT.value,
        entity_id=project.id,
        author_id=None if sees_all else actor.user.id,
        created_after=created_after,
        created_before=created_before,
    )
