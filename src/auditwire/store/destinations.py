"""Streaming destinations of every category, their headers and filters.

Secret tokens, signing secrets and header values are sealed with the SecretBox here, at the
last step before SQL, and opened when read: the database only ever holds ciphertext.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from auditwire.crypto import SecretBox
from auditwire.domain.destinations import Destination, EventTypeFilter, Header, NamespaceFilter
from auditwire.domain.events import as_utc
from auditwire.domain.owner import Owner
from auditwire.domain.retry import CircuitState
from auditwire.store.database import in_write
from auditwire.store.destination_revision import bump_revision
from auditwire.store.schema import (
    deliveries,
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
    filters: dict[int, list[NamespaceFilter]] = defaultdict(list)
    query = _namespace_filter_query().where(_ns.c.destination_id.in_(ids)).order_by(_ns.c.id)
    for row in await conn.execute(query):
        filters[row.destination_id].append(_namespace_filter_from_row(row))
    return [
        Destination(
            id=r.id,
            group_id=r.group_id,
            name=r.name,
            category=r.category,
            config=dict(r.config or {}),
            secret_token=box.decrypt(r.secret_token),
            signing_secret=box.decrypt(r.signing_secret),
            active=r.active,
            created_at=as_utc(r.created_at),
            updated_at=as_utc(r.updated_at),
            headers=tuple(headers[r.id]),
            event_type_filters=tuple(types[r.id]),
            namespace_filters=tuple(filters[r.id]),
        )
        for r in rows
    ]


def _owned_by(owner: Owner) -> sa.ColumnElement[bool]:
    group_id = owner.group_id
    return _dest.c.group_id.is_(None) if group_id is None else _dest.c.group_id == group_id


# Destinations ---------------------------------------------------------------------------------


async def list_destinations(
    conn: AsyncConnection, box: SecretBox, owner: Owner, category: str | None = None
) -> list[Destination]:
    """The owner's destinations (of one category when given), oldest first."""
    where = _owned_by(owner)
    if category is not None:
        where = sa.and_(where, _dest.c.category == category)
    return await _load(conn, box, where)


async def get_destination(
    conn: AsyncConnection, box: SecretBox, destination_id: int
) -> Destination | None:
    found = await _load(conn, box, _dest.c.id == destination_id)
    return found[0] if found else None


async def insert_destination(
    conn: AsyncConnection,
    box: SecretBox,
    *,
    owner: Owner,
    category: str,
    name: str,
    config: Mapping[str, Any],
    secret_token: str,
    signing_secret: str,
    now: datetime,
) -> int:
    """A new active destination; an http destination's headers are added with insert_header."""
    row = (
        await conn.execute(
            _dest.insert()
            .values(
                group_id=owner.group_id,
                name=name,
                category=category,
                config=dict(config),
                secret_token=box.encrypt(secret_token),
                signing_secret=box.encrypt(signing_secret),
                active=True,
                created_at=now,
                updated_at=now,
            )
            .returning(_dest.c.id)
        )
    ).one()
    await bump_revision(conn)
    return int(row.id)


async def update_destination(
    conn: AsyncConnection, destination_id: int, now: datetime, **values: Any
) -> None:
    """Change name, category, config or active (secret_token: see set_secret_token)."""
    await conn.execute(
        _dest.update().where(_dest.c.id == destination_id).values(updated_at=now, **values)
    )
    await bump_revision(conn)


async def set_secret_token(
    conn: AsyncConnection, box: SecretBox, destination_id: int, secret_token: str, now: datetime
) -> None:
    await conn.execute(
        _dest.update()
        .where(_dest.c.id == destination_id)
        .values(secret_token=box.encrypt(secret_token), updated_at=now)
    )
    await bump_revision(conn)


async def reset_health(conn: AsyncConnection, destination_id: int, now: datetime) -> None:
    """Close the destination's circuit and make its backlog due now: its settings changed,
    so the failures counted so far say nothing about the next attempt."""
    await conn.execute(
        _dest.update()
        .where(_dest.c.id == destination_id)
        .values(
            circuit_state=CircuitState.CLOSED.value,
            consecutive_failures=0,
            circuit_open_until=None,
        )
    )
    d = deliveries
    await conn.execute(
        d.update()
        .where(
            d.c.destination_id == destination_id,
            d.c.state == "pending",
            d.c.next_attempt_at > now,
            sa.or_(d.c.lease_expires_at.is_(None), d.c.lease_expires_at <= now),
        )
        .values(next_attempt_at=now)
    )


async def delete_destination(conn: AsyncConnection, destination_id: int) -> None:
    """Delete a destination; its headers, filters and pending deliveries go with it."""
    await conn.execute(_dest.delete().where(_dest.c.id == destination_id))
    await bump_revision(conn)


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


async def lock_owner(conn: AsyncConnection, owner: Owner) -> None:
    """Lock the rules spanning this owner's destinations until the transaction ends."""
    await _advisory_lock(conn, _OWNER_RULES_LOCK, owner.key)


async def lock_destination(conn: AsyncConnection, destination_id: int) -> None:
    """Lock the rules spanning this destination's headers and filters until the transaction
    ends; taken before the destination is read, so that what is read is current."""
    await _advisory_lock(conn, _DESTINATION_RULES_LOCK, destination_id)


async def name_taken(
    conn: AsyncConnection, owner: Owner, name: str, except_id: int | None = None
) -> bool:
    """Whether another destination of the same owner already uses this name."""
    query = sa.select(_dest.c.id).where(_owned_by(owner), _dest.c.name == name)
    if except_id is not None:
        query = query.where(_dest.c.id != except_id)
    return (await conn.execute(query.limit(1))).first() is not None


async def configs_of(
    conn: AsyncConnection, owner: Owner, category: str, except_id: int | None = None
) -> list[Mapping[str, Any]]:
    """The configs of the owner's other destinations of this category (a handful: the
    uniqueness rules of a category compare config values, which SQL indexes cannot)."""
    query = sa.select(_dest.c.config).where(_owned_by(owner), _dest.c.category == category)
    if except_id is not None:
        query = query.where(_dest.c.id != except_id)
    return [dict(config or {}) for (config,) in await conn.execute(query)]


async def count_active(conn: AsyncConnection, owner: Owner, category: str) -> int:
    """The owner's active destinations of this category."""
    query = sa.select(sa.func.count()).where(
        _owned_by(owner), _dest.c.category == category, _dest.c.active.is_(True)
    )
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
    await bump_revision(conn)
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
    await bump_revision(conn)
    return _header_from_row(row, box)


async def delete_header(conn: AsyncConnection, header_id: int) -> None:
    await conn.execute(_headers.delete().where(_headers.c.id == header_id))
    await bump_revision(conn)


async def header_key_taken(
    conn: AsyncConnection, destination_id: int, key: str, except_id: int | None = None
) -> bool:
    query = sa.select(_headers.c.id).where(
        _headers.c.destination_id == destination_id, _headers.c.key == key
    )
    if except_id is not None:
        query = query.where(_headers.c.id != except_id)
    return (await conn.execute(query.limit(1))).first() is not None


async def replace_headers(
    conn: AsyncConnection,
    box: SecretBox,
    destination_id: int,
    wanted: Mapping[str, tuple[str, bool]],
    now: datetime,
) -> None:
    """Make the destination's headers exactly `wanted` ({key: (value, active)}): a key kept
    keeps its row (and id), the others are deleted or inserted."""
    existing = {
        row.key: row.id
        for row in await conn.execute(
            sa.select(_headers.c.id, _headers.c.key).where(
                _headers.c.destination_id == destination_id
            )
        )
    }
    gone = [header_id for key, header_id in existing.items() if key not in wanted]
    if gone:
        await conn.execute(_headers.delete().where(_headers.c.id.in_(gone)))
        await bump_revision(conn)
    for key, (value, active) in wanted.items():
        if key in existing:
            await update_header(conn, box, existing[key], key=None, value=value, active=active)
        else:
            await insert_header(
                conn,
                box,
                destination_id=destination_id,
                key=key,
                value=value,
                active=active,
                now=now,
            )


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
