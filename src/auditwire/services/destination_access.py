"""Who may manage a streaming destination, and the owner it belongs to.

Shared by the destination use cases and the delivery use cases (health, test, replay), so
both refuse the same callers with the same message.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from auditwire.config import Plan
from auditwire.crypto import SecretBox
from auditwire.domain import destinations as rules
from auditwire.domain.destination_events import destination_event, destination_target
from auditwire.domain.destinations import Destination, Header
from auditwire.domain.events import NewAuditEvent, Target
from auditwire.domain.namespaces import Group
from auditwire.domain.owner import Owner, OwnerKind
from auditwire.errors import Forbidden, InvalidInput
from auditwire.services.context import Actor
from auditwire.services.events import record
from auditwire.services.namespaces import find_group
from auditwire.store import destinations as dest_store
from auditwire.store import namespaces as ns_store

RESOURCE_NOT_AVAILABLE = (
    "The resource that you are attempting to access does not exist "
    "or you don't have permission to perform this action"
)
MUTATION_NOT_ALLOWED = "You do not have access to this mutation."


def not_available() -> Forbidden:
    return Forbidden(RESOURCE_NOT_AVAILABLE)


class DestinationAccess:
    """Permission checks on destinations; a refused caller learns nothing about them."""

    def __init__(self, box: SecretBox, default_plan: Plan) -> None:
        self.box = box
        self.default_plan = default_plan

    def writer(self, actor: Actor | None, kind: OwnerKind | None) -> Actor:
        """The actor of a change: signed in, allowed to write, an admin for the instance's
        destinations (`kind` None: the family is not known yet, the destination decides)."""
        if kind is OwnerKind.INSTANCE and not rules.may_manage_instance_destinations(
            actor.user if actor else None
        ):
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

    async def group_owner(
        self, conn: AsyncConnection, actor: Actor | None, group_path: str
    ) -> Owner:
        """The top-level group at `group_path` as an owner the actor may manage."""
        group = await find_group(conn, group_path)
        if group is None or not await self.may_manage(conn, actor, group):
            raise not_available()
        if not group.is_top_level:
            raise InvalidInput(rules.SUBGROUP_NOT_ALLOWED, "groupPath")
        return Owner.of(group)

    def instance_owner(self, actor: Actor | None) -> Owner:
        if not rules.may_manage_instance_destinations(actor.user if actor else None):
            raise not_available()
        return Owner.instance()

    async def destination(
        self,
        conn: AsyncConnection,
        actor: Actor,
        destination_id: int,
        kind: OwnerKind | None,
        category: str | None = None,
    ) -> tuple[Destination, Owner]:
        """A destination of the expected family (any when `kind` is None; of `category` only,
        when given: a family that shows one category knows no other) that the actor may
        manage, with its owner. In a write transaction, the rules spanning its headers and
        filters stay locked until the transaction ends."""
        await dest_store.lock_destination(conn, destination_id)
        destination = await dest_store.get_destination(conn, self.box, destination_id)
        if destination is None:
            raise not_available()
        found = OwnerKind.INSTANCE if destination.is_instance else OwnerKind.GROUP
        if kind is not None and found is not kind:
            raise not_available()
        if category is not None and destination.category != category:
            raise not_available()
        if destination.group_id is None:
            if not rules.may_manage_instance_destinations(actor.user):
                raise not_available()
            return destination, Owner.instance()
        group = await ns_store.get_group(conn, destination.group_id)
        if group is None or not await self.may_manage(conn, actor, group):
            raise not_available()
        return destination, Owner.of(group)

    async def header(
        self, conn: AsyncConnection, actor: Actor, header_id: int, kind: OwnerKind
    ) -> tuple[Header, Destination, Owner]:
        header = await dest_store.get_header(conn, self.box, header_id)
        if header is None:
            raise not_available()
        destination, owner = await self.destination(conn, actor, header.destination_id, kind)
        return header, destination, owner


def actor_event(
    actor: Actor,
    owner: Owner,
    event_type: str,
    message: str,
    target: Target,
    details: dict[str, Any] | None = None,
) -> NewAuditEvent:
    """The owner's event for a change the actor made."""
    return destination_event(
        owner, actor.author, event_type, message, target, details, actor.ip_address
    )


async def audit(
    conn: AsyncConnection,
    actor: Actor,
    owner: Owner,
    destination: Destination,
    event_type: str,
    message: str,
    details: dict[str, Any] | None = None,
) -> None:
    """Record the owner's event about a change the actor made to the destination, in the
    change's transaction."""
    event = actor_event(actor, owner, event_type, message, destination_target(destination), details)
    await record(conn, [event])
