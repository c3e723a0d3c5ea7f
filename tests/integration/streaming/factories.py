"""Destinations, headers and filters inserted straight into the schema, and events recorded
through the services layer, for the delivery tests."""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from auditwire.domain.events import Author, EntityType, NewAuditEvent, Target
from auditwire.domain.signing import new_signing_secret
from auditwire.services import events as event_service
from auditwire.services.container import Services
from auditwire.store.schema import (
    deliveries,
    namespaces,
    projects,
    streaming_destinations,
    streaming_event_type_filters,
    streaming_headers,
    streaming_namespace_filters,
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
    full_path = path
    async with services.store.write() as conn:
        if parent_id is not None:
            parent = (
                await conn.execute(
                    sa.select(namespaces.c.full_path).where(namespaces.c.id == parent_id)
                )
            ).scalar_one()
            full_path = f"{parent}/{path}"
        result = await conn.execute(
            namespaces.insert()
            .values(
                parent_id=parent_id,
                path=path,
                name=path,
                full_path=full_path,
                description="",
                created_at=_now(),
            )
            .returning(namespaces.c.id)
        )
        return int(result.scalar_one())


async def add_project(services: Services, group_id: int, path: str) -> int:
    async with services.store.write() as conn:
        parent = (
            await conn.execute(sa.select(namespaces.c.full_path).where(namespaces.c.id == group_id))
        ).scalar_one()
        result = await conn.execute(
            projects.insert()
            .values(
                namespace_id=group_id,
                path=path,
                name=path,
                full_path=f"{parent}/{path}",
                description="",
                created_at=_now(),
            )
            .returning(projects.c.id)
        )
        return int(result.scalar_one())


async def add_destination(
    services: Services, url: str, *, group_id: int | None = None, active: bool = True
) -> Destination:
    token = secrets.token_urlsafe(18)[:24]
    secret = new_signing_secret()
    box = services.box
    async with services.store.write() as conn:
        result = await conn.execute(
            streaming_destinations.insert()
            .values(
                group_id=group_id,
                name=f"Destination_{secrets.token_hex(8)}",
                destination_url=url,
                verification_token=box.encrypt(token),
                signing_secret=box.encrypt(secret),
                active=active,
                created_at=_now(),
                updated_at=_now(),
            )
            .returning(streaming_destinations.c.id)
        )
        return Destination(int(result.scalar_one()), url, token, secret)


async def set_active(services: Services, destination_id: int, active: bool) -> None:
    async with services.store.write() as conn:
        await conn.execute(
            streaming_destinations.update()
            .where(streaming_destinations.c.id == destination_id)
            .values(active=active, updated_at=_now())
        )


async def destroy_destination(services: Services, destination_id: int) -> None:
    async with services.store.write() as conn:
        await conn.execute(
            streaming_destinations.delete().where(streaming_destinations.c.id == destination_id)
        )


async def add_header(
    services: Services, destination_id: int, key: str, value: str, *, active: bool = True
) -> None:
    async with services.store.write() as conn:
        await conn.execute(
            streaming_headers.insert().values(
                destination_id=destination_id,
                key=key,
                value=services.box.encrypt(value),
                active=active,
                created_at=_now(),
            )
        )


async def add_event_type_filter(services: Services, destination_id: int, event_type: str) -> None:
    async with services.store.write() as conn:
        await conn.execute(
            streaming_event_type_filters.insert().values(
                destination_id=destination_id, audit_event_type=event_type, created_at=_now()
            )
        )


async def add_namespace_filter(
    services: Services,
    destination_id: int,
    *,
    group_id: int | None = None,
    project_id: int | None = None,
) -> None:
    async with services.store.write() as conn:
        await conn.execute(
            streaming_namespace_filters.insert().values(
                destination_id=destination_id,
                group_id=group_id,
                project_id=project_id,
                created_at=_now(),
            )
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
