"""Who may manage a streaming destination, and the audit events its changes record.

Shared by the destination use cases and the delivery use cases (health, test, replay), so
both refuse the same callers with the same message.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from auditwire.config import Plan
from auditwire.crypto import SecretBox
from auditwire.domain import destinations as rules
from auditwire.domain.destinations import Destination, Header
from auditwire.domain.events import (
    INSTANCE_ENTITY_ID,
    INSTANCE_ENTITY_PATH,
    EntityType,
    NewAuditEvent,
    Target,
)
from auditwire.domain.namespaces import Group
from auditwire.errors import Forbidden
from auditwire.services.context import Actor
from auditwire.services.namespaces import namespace_event
from auditwire.store import destinations as dest_store
from auditwire.store import namespaces as ns_store

RESOURCE_NOT_AVAILABLE = (
    "The resource that you are attempting to access does not exist "
    "or you don't have permission to perform this action"
)
MUTATION_NOT_ALLOWED = "You do not have access to this mutation."

GROUP_DESTINATION_CLASS = "AuditEvents::ExternalAuditEventDestination"
INSTANCE_DESTINATION_CLASS = "AuditEvents::InstanceExternalAuditEventDestination"
GROUP_HEADER_CLASS = "AuditEvents::Streaming::Header"
INSTANCE_HEADER_CLASS = "AuditEvents::Streaming::InstanceHeader"


def not_available() -> Forbidden:
    return Forbidden(RESOURCE_NOT_AVAILABLE)


class DestinationAccess:
    """Permission checks on destinations; a refused caller learns nothing about them."""

    def __init__(self, box: SecretBox, default_plan: Plan) -> None:
        self.box = box
        self.default_plan = default_plan

    def writer(self, actor: Actor | None, *, instance: bool) -> Actor:
        """The actor of a change: signed in, allowed to write, an admin for the instance."""
        if instance and not rules.may_manage_instance_destinations(actor.user if actor else None):
            raise Forbidden(MUTATION_NOT_ALLOWED)
        if actor is None:
            raise not_available()
        actor.require_write()
        return actor

    async def may_manage(self, conn: AsyncConnection, actor: Actor | None, group: Group) -> bool:
        if actor is None:
            return False
        root = await ns_store.root_of(conn, group)
        level = await ns_store.group_access(conn, actor.user.id, group)
        return rules.may_manage_group_destinations(
            actor.user, level, root.plan or self.default_plan
        )

    async def destination(
        self,
        conn: AsyncConnection,
        actor: Actor,
        destination_id: int,
        instance: bool,
    ) -> tuple[Destination, Group | None]:
        """A destination of the expected family that the actor may manage, with its group. In
        a write transaction, the rules spanning its headers and filters stay locked until the
        transaction ends."""
        await dest_store.lock_destination(conn, destination_id)
        destination = await dest_store.get_destination(conn, self.box, destination_id)
        if destination is None or destination.is_instance != instance:
            raise not_available()
        if destination.group_id is None:
            return destination, None
        group = await ns_store.get_group(conn, destination.group_id)
        if group is None or not await self.may_manage(conn, actor, group):
            raise not_available()
        return destination, group

    async def header(
        self, conn: AsyncConnection, actor: Actor, header_id: int, instance: bool
    ) -> tuple[Header, Group | None]:
        header = await dest_store.get_header(conn, self.box, header_id)
        if header is None:
            raise not_available()
        _, group = await self.destination(conn, actor, header.destination_id, instance)
        return header, group


def destination_event(
    actor: Actor,
    group: Group | None,
    event_type: str,
    message: str,
    target: Target,
    details: dict[str, Any] | None = None,
) -> NewAuditEvent:
    """The group's event for a group destination; an instance event (GitLab's names) else."""
    if group is not None:
        return namespace_event(actor, group, group, event_type, message, target, details)
    instance_type = {
        "create_event_streaming_destination": "create_instance_event_streaming_destination",
        "update_event_streaming_destination": "update_instance_event_streaming_destination",
        "destroy_event_streaming_destination": "destroy_instance_event_streaming_destination",
    }.get(event_type, event_type)
    return NewAuditEvent(
        event_type=instance_type,
        author=actor.author,
        entity_type=EntityType.INSTANCE,
        entity_id=INSTANCE_ENTITY_ID,
        entity_path=INSTANCE_ENTITY_PATH,
        target=target,
        ip_address=actor.ip_address,
        custom_message=message,
        details=details or {},
    )


def header_event(
    actor: Actor,
    group: Group | None,
    action: str,
    message: str,
    header: Header,
    details: dict[str, Any] | None = None,
) -> NewAuditEvent:
    family = (
        "audit_events_streaming_headers" if group else "audit_events_streaming_instance_headers"
    )
    header_class = GROUP_HEADER_CLASS if group else INSTANCE_HEADER_CLASS
    target = Target(header.id, header_class, header.key)
    return destination_event(actor, group, f"{family}_{action}", message, target, details)


def destination_target(destination: Destination) -> Target:
    cls = INSTANCE_DESTINATION_CLASS if destination.is_instance else GROUP_DESTINATION_CLASS
    return Target(destination.id, cls, destination.name)
