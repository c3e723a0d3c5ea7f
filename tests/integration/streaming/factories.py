"""Groups, projects, destinations, headers and filters written through the store, and events
recorded through the services layer, for the delivery tests."""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from auditwire.config import Plan
from auditwire.domain.categories import HTTP
from auditwire.domain.events import Author, EntityType, NewAuditEvent, Target
from auditwire.domain.owner import Owner
from auditwire.domain.signing import new_signing_secret
from auditwire.services import events as event_service
from auditwire.services.container import Services
from auditwire.store import destinations as dest_store
from auditwire.store import namespaces as ns_store
from auditwire.store.schema import (
    deliveries,
    streaming_destinations,
)

AUTHOR = Author(id=1, name="Administrator")
CHECK_INTERVAL = 0.02  # seconds between two looks at the database in `eventually`


@dataclass(frozen=True)
class Destination:
    id: int
    url: str
    token: str
    signing_secret: str


def _now() -> datetime:
    return datetime.now(UTC)


async def add_group(services: Services, path: str, parent_id: int | None = None) -> int:
    async with services.store.write() as conn:
        parent = await ns_store.get_group(conn, parent_id) if parent_id is not None else None
        plan = None if parent else Plan.ULTIMATE
        group = await ns_store.insert_group(
            conn, parent=parent, path=path, name=path, description="", plan=plan, now=_now()
        )
        return group.id


async def add_project(services: Services, group_id: int, path: str) -> int:
    async with services.store.write() as conn:
        group = await ns_store.get_group(conn, group_id)
        assert group is not None
        project = await ns_store.insert_project(
            conn, group=group, path=path, name=path, description="", now=_now()
        )
        return project.id


async def add_destination(
    services: Services, url: str, *, group_id: int | None = None, active: bool = True
) -> Destination:
    token = secrets.token_urlsafe(18)[:24]
    secret = new_signing_secret()
    async with services.store.write() as conn:
        group = await ns_store.get_group(conn, group_id) if group_id is not None else None
        destination_id = await dest_store.insert_destination(
            conn,
            services.box,
            owner=Owner.of(group) if group is not None else Owner.instance(),
            category=HTTP,
            name=f"Destination_{secrets.token_hex(8)}",
            config={"url": url},
            secret_token=token,
            signing_secret=secret,
            now=_now(),
        )
        if not active:
            await dest_store.update_destination(conn, destination_id, _now(), active=False)
        return Destination(destination_id, url, token, secret)


async def set_active(services: Services, destination_id: int, active: bool) -> None:
    async with services.store.write() as conn:
        await dest_store.update_destination(conn, destination_id, _now(), active=active)


async def destroy_destination(services: Services, destination_id: int) -> None:
    async with services.store.write() as conn:
        await dest_store.delete_destination(conn, destination_id)


async def add_header(
    services: Services, destination_id: int, key: str, value: str, *, active: bool = True
) -> None:
    async with services.store.write() as conn:
        await dest_store.insert_header(
            conn,
            services.box,
            destination_id=destination_id,
            key=key,
            value=value,
            active=active,
            now=_now(),
        )


async def add_event_type_filter(services: Services, destination_id: int, event_type: str) -> None:
    async with services.store.write() as conn:
        await dest_store.insert_event_types(conn, destination_id, [event_type], _now())


async def add_namespace_filter(
    services: Services,
    destination_id: int,
    *,
    group_id: int | None = None,
    project_id: int | None = None,
) -> None:
    async with services.store.write() as conn:
        await dest_store.insert_namespace_filter(
            conn,
            destination_id=destination_id,
            group_id=group_id,
            project_id=project_id,
            now=_now(),
        )


def group_event(
    group_id: int, path: str, event_type: str = "group_updated", root_id: int | None = None
) -> NewAuditEvent:
    return NewAuditEvent(
        event_type=event_type,
        author=AUTHOR,
        entity_type=EntityType.GROUP,
        entity_id=group_id,
        entity_path=path,
        target=Target(group_id, "Group", path),
        ip_address="127.0.0.1",
        root_group_id=root_id if root_id is not None else group_id,
    )


def project_event(
    project_id: int, path: str, root_id: int, event_type: str = "project_updated"
) -> NewAuditEvent:
    return NewAuditEvent(
        event_type=event_type,
        author=AUTHOR,
        entity_type=EntityType.PROJECT,
        entity_id=project_id,
        entity_path=path,
        target=Target(project_id, "Project", path),
        ip_address="127.0.0.1",
        root_group_id=root_id,
    )


def user_event(user_id: int = 1) -> NewAuditEvent:
    return NewAuditEvent(
        event_type="user_created",
        author=AUTHOR,
        entity_type=EntityType.USER,
        entity_id=user_id,
        entity_path="someone",
    )


async def record(services: Services, events: list[NewAuditEvent]) -> list[int]:
    """Record events in one transaction, as a change would; their ids."""
    async with services.store.write() as conn:
        recorded = await event_service.record(conn, events)
    return [e.id for e in recorded]


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 15.0) -> None:
    """Until `check()` holds, re-checking every few milliseconds, for at most `within` s.
    For states only the database shows (another process's writes): there is no event to await."""
    async with asyncio.timeout(within):
        for _ in itertools.count():
            if await check():
                return
            await asyncio.sleep(CHECK_INTERVAL)


async def delivery_rows(services: Services) -> list[sa.Row[Any]]:
    async with services.store.read() as conn:
        return list(await conn.execute(sa.select(deliveries).order_by(deliveries.c.id)))


async def destination_row(services: Services, destination_id: int) -> sa.Row[Any]:
    async with services.store.read() as conn:
        query = sa.select(streaming_destinations).where(
            streaming_destinations.c.id == destination_id
        )
        return (await conn.execute(query)).one()
