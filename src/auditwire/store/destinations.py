"""Streaming destinations, their headers and filters.

Verification tokens, signing secrets and header values are sealed with the SecretBox here, at
the last step before SQL, and opened when read: the database only ever holds ciphertext.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from auditwire.crypto import SecretBox
from auditwire.domain.destinations import Destination, EventTypeFilter, Header, NamespaceFilter
from auditwire.domain.events import as_utc
from auditwire.store.database import in_write
from auditwire.store.schema import (
    namespaces,
    projects,
    streaming_destinations,
    streaming_event_type_filters,
    streaming_headers,
    streaming_namespace_filters,
)

_dest = streaming_destinations
_headers = streaming_headers
_types = streaming_event_type_filters
_ns = streaming_namespace_filters


def _header_from_row(row: sa.Row[Any], box: SecretBox) -> Header:
    m = row._mapping
    return Header(
        id=m["id"],
        destination_id=m["destination_id"],
        key=m["key"],
        value=box.decrypt(m["value"]),
        active=m["active"],
        created_at=as_utc(m["created_at"]),
    )


def _type_from_row(row: sa.Row[Any]) -> EventTypeFilter:
    m = row._mapping
    return EventTypeFilter(
        id=m["id"],
        destination_id=m["destination_id"],
        audit_event_type=m["audit_event_type"],
        created_at=as_utc(m["created_at"]),
    )


def _namespace_filter_from_row(row: sa.Row[Any]) -> NamespaceFilter:
    m = row._mapping
    return NamespaceFilter(
        id=m["id"],
        destination_id=m["destination_id"],
        group_id=m["group_id"],
        project_id=m["project_id"],
        namespace_path=m["group_path"] or m["project_path"],
        namespace_name=m["group_name"] or m["project_name"],
        created_at=as_utc(m["created_at"]),
    )


def _namespace_filter_query() -> sa.Select[Any]:
    return sa.select(
        *_ns.c,
        namespaces.c.full_path.label("group_path"),
        namespaces.c.name.label("group_name"),
        projects.c.full_path.label("project_path"),
        projects.c.name.label("project_name"),
    ).select_from(
        _ns.outerjoin(namespaces, namespaces.c.id == _ns.c.group_id).outerjoin(
            projects, projects.c.id == _ns.c.project_id
        )
    )


async def _load(
    conn: AsyncConnection, box: SecretBox, where: sa.ColumnElement[bool]
) -> list[Destination]:
    """Destinations matching `where`, oldest first, each with its headers and filters."""
    rows = list(await conn.execute(sa.select(_dest).where(where).order_by(_dest.c.id)))
    if not rows:
        return []
    ids = [r.id for r in rows]
    headers: dict[int, list[Header]] = defaultdict(list)
    query = sa.select(_headers).where(_headers.c.destination_id.in_(ids)).order_by(_headers.c.id)
    for row in await conn.execute(query):
        headers[row.destination_id].append(_header_from_row(row, box))
    types: dict[int, list[EventTypeFilter]] = defaultdict(list)
    query = sa.select(_types).where(_types.c.destination_id.in_(ids)).order_by(_types.c.id)
    for row in await conn.execute(query):
        types[row.destination_id].append(_type_from_row(row))
    filters = {
        row.destination_id: _namespace_filter_from_row(row)
        for row in await conn.execute(
            _namespace_filter_query().where(_ns.c.destination_id.in_(ids))
        )
    }
    return [
        Destination(
            id=r.id,
            group_id=r.group_id,
            name=r.name,
            destination_url=r.destination_url,
            verification_token=box.decrypt(r.verification_token),
            signing_secret=box.decrypt(r.signing_secret),
            active=r.active,
            created_at=as_utc(r.created_at),
            updated_at=as_utc(r.updated_at),
            headers=tuple(headers[r.id]),
            event_type_filters=tuple(types[r.id]),
            namespace_filter=filters.get(r.id),
        )
        for r in rows
    ]


def _owner(group_id: int | None) -> sa.ColumnElement[bool]:
    return _dest.c.group_id.is_(None) if group_id is None else _dest.c.group_id == group_id


# Destinations ---------------------------------------------------------------------------------


async def list_destinations(
    conn: AsyncConnection, box: SecretBox, group_id: int | None
) -> list[Destination]:
    """A group's destinations, or the instance's when `group_id` is None."""
    return await _load(conn, box, _owner(group_id))


async def get_destination(
    conn: AsyncConnection, box: SecretBox, destination_id: int
) -> Destination | None:
    found = await _load(conn, box, _dest.c.id == destination_id)
    return found[0] if found else None


async def insert_destination(
    conn: AsyncConnection,
    box: SecretBox,
    *,
    group_id: int | None,
    name: str,
    destination_url: str,
    verification_token: str,
    signing_secret: str,
    now: datetime,
) -> int:
    row = (
        await conn.execute(
            _dest.insert()
            .values(
                group_id=group_id,
                name=name,
                destination_url=destination_url,
                verification_token=box.encrypt(verification_token),
                signing_secret=box.encrypt(signing_secret),
                active=True,
                created_at=now,
                updated_at=now,
            )
            .returning(_dest.c.id)
        )
    ).one()
    return int(row.id)


async def update_destination(
    conn: AsyncConnection, destination_id: int, now: datetime, **values: Any
) -> None:
    """Change name, destination_url or active; secrets are never changed after creation."""
    await conn.execute(
        _dest.update().where(_dest.c.id == destination_id).values(updated_at=now, **values)
    )


async def delete_destination(conn: AsyncConnection, destination_id: int) -> None:
    """Delete a destination; its headers, filters and pending deliveries go with it."""
    await conn.execute(_dest.delete().where(_dest.c.id == destination_id))


# Advisory lock spaces for the rules that span rows, each with a second key: an owner's
# destinations (a name and a URL once per owner, at most 5 active; the owner is a group's id,
# 0 for the instance), and one destination's headers and filters (a header key and an event
# type once, at most 20 headers, one namespace filter).
_OWNER_RULES_LOCK = 0x61770001
_DESTINATION_RULES_LOCK = 0x61770002
_INT4 = 2**31


async def _advisory_lock(conn: AsyncConnection, space: int, key: int) -> None:
    """Hold, until the transaction ends, every other writer that takes the same lock, so that
    two at once cannot both pass a check that only one may. Readers check nothing and take
    none; SQLite runs one writer at a time already."""
    if conn.dialect.name != "postgresql" or not in_write(conn):
        return
    # Two keys that meet modulo 2^31 only make their writers wait for each other.
    await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(space, key % _INT4)))


async def lock_owner(conn: AsyncConnection, group_id: int | None) -> None:
    """Lock the rules spanning this owner's destinations until the transaction ends."""
    await _advisory_lock(conn, _OWNER_RULES_LOCK, group_id or 0)


async def lock_destination(conn: AsyncConnection, destination_id: int) -> None:
    """Lock the rules spanning this destination's headers and filters until the transaction
    ends; taken before the destination is read, so that what is read is current."""
    await _advisory_lock(conn, _DESTINATION_RULES_LOCK, destination_id)


async def taken(
    conn: AsyncConnection,
    group_id: int | None,
    *,
    name: str | None = None,
    destination_url: str | None = None,
    except_id: int | None = None,
) -> bool:
    """Whether another destination of the same owner already uses this name or URL."""
    query = sa.select(_dest.c.id).where(_owner(group_id))
    if name is not None:
        query = query.where(_dest.c.name == name)
    if destination_url is not None:
        query = query.where(_dest.c.destination_url == destination_url)
    if except_id is not None:
        query = query.where(_dest.c.id != except_id)
    return (await conn.execute(query.limit(1))).first() is not None


async def count_active(conn: AsyncConnection, group_id: int | None) -> int:
    query = sa.select(sa.func.count()).where(_owner(group_id), _dest.c.active.is_(True))
    return int((await conn.execute(query)).scalar_one())


# Headers --------------------------------------------------------------------------------------


async def get_header(conn: AsyncConnection, box: SecretBox, header_id: int) -> Header | None:
    row = (await conn.execute(sa.select(_headers).where(_headers.c.id == header_id))).first()
    return _header_from_row(row, box) if row else None


async def insert_header(
    conn: AsyncConnection,
    box: SecretBox,
    *,
    destination_id: int,
    key: str,
    value: str,
    active: bool,
    now: datetime,
) -> Header:
    row = (
        await conn.execute(
            _headers.insert()
            .values(
                destination_id=destination_id,
                key=key,
                value=box.encrypt(value),
                active=active,
                created_at=now,
            )
            .returning(*_headers.c)
        )
    ).one()
    return _header_from_row(row, box)


async def update_header(
    conn: AsyncConnection,
    box: SecretBox,
    header_id: int,
    *,
    key: str | None,
    value: str | None,
    active: bool | None,
) -> Header:
    values: dict[str, Any] = {}
    if key is not None:
        values["key"] = key
    if value is not None:
        values["value"] = box.encrypt(value)
    if active is not None:
        values["active"] = active
    query = _headers.update().where(_headers.c.id == header_id)
    row = (await conn.execute(query.values(**values).returning(*_headers.c))).one()
    return _header_from_row(row, box)


async def delete_header(conn: AsyncConnection, header_id: int) -> None:
    await conn.execute(_headers.delete().where(_headers.c.id == header_id))


async def header_key_taken(
    conn: AsyncConnection, destination_id: int, key: str, except_id: int | None = None
) -> bool:
    query = sa.select(_headers.c.id).where(
        _headers.c.destination_id == destination_id, _headers.c.key == key
    )
    if except_id is not None:
        query = query.where(_headers.c.id != except_id)
    return (await conn.execute(query.limit(1))).first() is not None


async def count_headers(conn: AsyncConnection, destination_id: int) -> int:
    query = sa.select(sa.func.count()).where(_headers.c.destination_id == destination_id)
    return int((await conn.execute(query)).scalar_one())


# Event type filters ---------------------------------------------------------------------------


async def insert_event_types(
    conn: AsyncConnection, destination_id: int, event_types: Sequence[str], now: datetime
) -> None:
    await conn.execute(
        _types.insert(),
        [
            {"destination_id": destination_id, "audit_event_type": t, "created_at": now}
            for t in event_types
        ],
    )


async def delete_event_types(
    conn: AsyncConnection, destination_id: int, event_types: Sequence[str]
) -> None:
    await conn.execute(
        _types.delete().where(
            _types.c.destination_id == destination_id, _types.c.audit_event_type.in_(event_types)
        )
    )


# Namespace filters ----------------------------------------------------------------------------


async def get_namespace_filter(conn: AsyncConnection, filter_id: int) -> NamespaceFilter | None:
    row = (await conn.execute(_namespace_filter_query().where(_ns.c.id == filter_id))).first()
    return _namespace_filter_from_row(row) if row else None


async def insert_namespace_filter(
    conn: AsyncConnection,
    *,
    destination_id: int,
    group_id: int | None,
    project_id: int | None,
    now: datetime,
) -> NamespaceFilter:
    row = (
        await conn.execute(
            _ns.insert()
            .values(
                destination_id=destination_id,
                group_id=group_id,
                project_id=project_id,
                created_at=now,
            )
            .returning(_ns.c.id)
        )
    ).one()
    found = await get_namespace_filter(conn, int(row.id))
    assert found is not None  # inserted just above, in this transaction
    return found


async def delete_namespace_filter(conn: AsyncConnection, filter_id: int) -> None:
    await conn.execute(_ns.delete().where(_ns.c.id == filter_id))
