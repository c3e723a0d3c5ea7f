"""Audit events: bulk insert and filtered, paginated reads."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from auditwire.domain.events import AuditEvent, NewAuditEvent, as_utc
from auditwire.store._paging import page
from auditwire.store.database import driver_connection
from auditwire.store.schema import audit_events, idempotency_keys

# A target id of at most 18 digits (with a sign) is streamed as a number, anything else as the
# text it was given: "--5" or 30 digits stay strings, never an error (or a number beyond what
# JSON readers hold). The batch claim's SQL renders it by the same rule (store/batch_claims).
TARGET_ID_DIGITS = 18
_NUMERIC_TARGET_ID = re.compile(rf"-?[0-9]{{1,{TARGET_ID_DIGITS}}}")


def _target_id(raw: str | None) -> int | str | None:
    if raw is None:
        return None
    return int(raw) if _NUMERIC_TARGET_ID.fullmatch(raw) else raw


def event_from_row(row: sa.Row[Any]) -> AuditEvent:
    return event_from_mapping(row._mapping)


def event_from_mapping(m: Mapping[Any, Any]) -> AuditEvent:
    return AuditEvent(
        id=m["id"],
        event_type=m["event_type"],
        author_id=m["author_id"],
        author_name=m["author_name"],
        entity_type=m["entity_type"],
        entity_id=m["entity_id"],
        entity_path=m["entity_path"],
        target_id=_target_id(m["target_id"]),
        target_type=m["target_type"],
        target_details=m["target_details"],
        ip_address=m["ip_address"],
        details=m["details"],
        created_at=as_utc(m["created_at"]),
        stream_only=m["stream_only"],
        root_group_id=m["root_group_id"],
    )


def _values(event: NewAuditEvent, now: datetime) -> dict[str, Any]:
    target = event.target
    return {
        "event_type": event.event_type,
        "author_id": event.author.id,
        "author_name": event.author.name,
        "entity_type": event.entity_type.value,
        "entity_id": event.entity_id,
        "entity_path": event.entity_path,
        "target_id": None if target is None or target.id is None else str(target.id),
        "target_type": target.type if target else None,
        "target_details": target.details if target else None,
        "ip_address": event.ip_address,
        "details": event.full_details(),
        "created_at": as_utc(event.created_at) if event.created_at else now,
        "stream_only": event.stream_only,
        "root_group_id": event.root_group_id,
    }


async def insert_events(
    conn: AsyncConnection, events: Sequence[NewAuditEvent], now: datetime
) -> list[AuditEvent]:
    """Insert events in one executemany; returned in the order given, each with its id.

    Ids are taken before the insert, so the rows go in without an ordered RETURNING:
    SQLAlchemy has none for SQLite executemany (it falls back to one INSERT per row), and on
    PostgreSQL a COPY is several times faster than its batched INSERT … RETURNING.
    """
    if not events:
        return []
    values = [_values(event, now) for event in events]
    for event_id, row in zip(await _new_ids(conn, len(values)), values, strict=True):
        row["id"] = event_id
    if conn.dialect.name == "postgresql":
        await _copy_postgresql(conn, values)
    else:
        await _insert_sqlite(conn, values)
    return [event_from_mapping(row) for row in values]


_COLUMNS = [c.name for c in audit_events.c]
_ROW = itemgetter(*_COLUMNS)  # a row's values as a tuple in column order
_SQLITE_INSERT = (
    f"INSERT INTO audit_events ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
)


def sqlite_time(moment: datetime) -> str:
    """SQLAlchemy's SQLite DATETIME storage form, `2024-01-31 12:00:00.000000`, in UTC."""
    return as_utc(moment).replace(tzinfo=None).isoformat(" ", "microseconds")


async def _insert_sqlite(conn: AsyncConnection, values: list[dict[str, Any]]) -> None:
    """A plain executemany of ready-made tuples: SQLAlchemy's per-row parameter processing
    costs more than SQLite's insert itself. Values are stored exactly as SQLAlchemy stores
    them (UTC timestamps in its DATETIME form, JSON text, booleans as 0/1)."""
    rows = [
        _ROW(
            {
                **row,
                "created_at": sqlite_time(row["created_at"]),
                "details": orjson.dumps(row["details"]).decode(),
                "stream_only": int(row["stream_only"]),
            }
        )
        for row in values
    ]
    await conn.exec_driver_sql(_SQLITE_INSERT, rows)


async def _copy_postgresql(conn: AsyncConnection, values: list[dict[str, Any]]) -> None:
    """COPY the rows in, on the transaction's own asyncpg connection: PostgreSQL takes a
    thousand rows several times faster this way than as a thousand INSERTs."""
    driver = await driver_connection(conn)
    records = [_ROW({**row, "details": orjson.dumps(row["details"]).decode()}) for row in values]
    await driver.copy_records_to_table("audit_events", records=records, columns=_COLUMNS)


# Built once, so that SQLAlchemy finds them in its compiled cache on every call.
_PG_NEW_IDS = sa.select(
    sa.func.nextval(sa.func.pg_get_serial_sequence("audit_events", "id"))
).select_from(sa.func.generate_series(1, sa.bindparam("count", type_=sa.Integer)))
_SQLITE_MAX_ID = sa.select(sa.func.coalesce(sa.func.max(audit_events.c.id), 0))


async def _new_ids(conn: AsyncConnection, count: int) -> list[int]:
    if conn.dialect.name == "postgresql":
        return sorted((await conn.execute(_PG_NEW_IDS, {"count": count})).scalars())
    # SQLite: writes run under BEGIN IMMEDIATE, so this transaction holds the only write lock
    # and the ids after the current maximum are its own (the ones SQLite would assign).
    first: int = (await conn.execute(_SQLITE_MAX_ID)).scalar_one() + 1
    return list(range(first, first + count))


async def get_event(conn: AsyncConnection, event_id: int) -> AuditEvent | None:
    query = sa.select(audit_events).where(
        audit_events.c.id == event_id, audit_events.c.stream_only.is_(False)
    )
    row = (await conn.execute(query)).first()
    return event_from_row(row) if row else None


async def get_events(conn: AsyncConnection, event_ids: Sequence[int]) -> list[AuditEvent]:
    """Events by id, in the order of `event_ids`."""
    rows = await conn.execute(sa.select(audit_events).where(audit_events.c.id.in_(event_ids)))
    by_id = {e.id: e for e in map(event_from_row, rows)}
    return [by_id[i] for i in event_ids if i in by_id]


async def list_events(
    conn: AsyncConnection,
    *,
    entity_type: str | None = None,
    entity_id: int | None = None,
    author_id: int | None = None,
    event_type: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    offset: int,
    limit: int,
) -> tuple[list[AuditEvent], int]:
    """Stored (not stream-only) events, newest first, as GitLab lists them."""
    query = sa.select(audit_events).where(audit_events.c.stream_only.is_(False))
    if entity_type is not None:
        query = query.where(audit_events.c.entity_type == entity_type)
    if entity_id is not None:
        query = query.where(audit_events.c.entity_id == entity_id)
    if author_id is not None:
        query = query.where(audit_events.c.author_id == author_id)
    if event_type is not None:
        query = query.where(audit_events.c.event_type == event_type)
    if created_after is not None:
        query = query.where(audit_events.c.created_at >= created_after)
    if created_before is not None:
        query = query.where(audit_events.c.created_at <= created_before)
    return await page(conn, query, audit_events.c.id.desc(), offset, limit, event_from_row)


async def find_idempotent(
    conn: AsyncConnection, user_id: int, key: str
) -> tuple[list[int], str | None] | None:
    """The events stored for an idempotency key, with the digest of the request that stored
    them (None for keys stored before digests were kept); None for an unknown key."""
    query = sa.select(idempotency_keys.c.event_ids, idempotency_keys.c.request_digest).where(
        idempotency_keys.c.user_id == user_id, idempotency_keys.c.key == key
    )
    row = (await conn.execute(query)).one_or_none()
    return (list(row.event_ids), row.request_digest) if row is not None else None


async def remember_idempotent(
    conn: AsyncConnection,
    user_id: int,
    key: str,
    event_ids: list[int],
    request_digest: str,
    now: datetime,
) -> None:
    await conn.execute(
        idempotency_keys.insert().values(
            user_id=user_id,
            key=key,
            event_ids=event_ids,
            request_digest=request_digest,
            created_at=now,
        )
    )
