"""The batch claim: lease up to n due deliveries of one destination in one statement, each
with its event as a batch sends it, its stream body rendered by the database.

Building an `AuditEvent` from every row and encoding it again in Python was most of what a
batch cost the worker (a dataclass per event, the `details` decoded and re-encoded, the
timestamp formatted). Here the database writes GitLab's streaming payload itself: the same
keys in the same order with the same values as `AuditEvent.stream_body()`, strings escaped
by the database's own JSON encoder (PostgreSQL's `to_json`, SQLite's `json_object`). What
may differ is only what JSON leaves free: PostgreSQL writes `details` as jsonb prints it
(`{"a": 1, "b": [1, 2]}`, spaces after separators, numbers as numeric prints them: `1e-7`
as `0.0000001`). tests/integration/store/test_batch_claims.py holds the two to the same
JSON, key order included, for events with unicode, control characters, nested details,
NULLs and timestamps with microseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from auditwire.domain.delivery import Leased
from auditwire.store.database import driver_connection
from auditwire.store.due import due_ids
from auditwire.store.events import sqlite_time
from auditwire.store.stream_bodies import PG_BODY as _PG_BODY
from auditwire.store.stream_bodies import SQLITE_BODY as _SQLITE_BODY
from auditwire.store.stream_bodies import sqlite_moment as _sqlite_moment

# The columns in `Leased`'s order, so that each row becomes one with `Leased._make`.
# The picked ids go to the UPDATE as an array, which it finds through the primary key: as a
# joined CTE, PostgreSQL hashed the whole backlog (a sequential scan of every pending
# delivery) on every claim, which made a claim's cost grow with the backlog.
_PG_CLAIM = f"""
    WITH claimed AS (
        UPDATE deliveries
        SET lease_expires_at = $4, attempts = deliveries.attempts + 1
        WHERE deliveries.id = ANY(ARRAY({due_ids("$1", "$2", "$3", skip_locked=True)}))
        RETURNING deliveries.id, deliveries.attempts, deliveries.created_at,
                  deliveries.event_id
    )
    SELECT c.id, c.attempts, c.created_at, e.id, e.event_type,
           floor(extract(epoch FROM e.created_at) * 1000)::bigint,
           {_PG_BODY}
    FROM claimed c JOIN audit_events e ON e.id = c.event_id
"""

_SQLITE_LEASE = f"""
    UPDATE deliveries
    SET lease_expires_at = ?1, attempts = attempts + 1
    WHERE id IN ({due_ids("?2", "?3", "?4")})
    RETURNING id, attempts, created_at, event_id
"""
_SQLITE_EVENTS = f"""
    SELECT e.id, e.event_type,
           CAST(strftime('%s', substr(e.created_at, 1, 19)) AS INTEGER) * 1000
             + CAST(substr(e.created_at, 21, 3) AS INTEGER),
           CAST({_SQLITE_BODY} AS BLOB)
    FROM audit_events e WHERE e.id IN (SELECT value FROM json_each(?))
"""


async def claim_batch(
    conn: AsyncConnection, destination_id: int, n: int, now: datetime, lease_until: datetime
) -> list[Leased]:
    """Lease up to `n` due deliveries of an active destination, oldest due first, each with
    its event rendered for streaming."""
    if n <= 0:
        return []
    if conn.dialect.name == "postgresql":
        driver = await driver_connection(conn)
        records = await driver.fetch(_PG_CLAIM, destination_id, now, n, lease_until)
        return list(map(_leased, records))
    parameters = (sqlite_time(lease_until), destination_id, sqlite_time(now), n)
    leased: Sequence[Any] = (await conn.exec_driver_sql(_SQLITE_LEASE, parameters)).all()
    if not leased:
        return []
    wanted = orjson.dumps(sorted({row[3] for row in leased})).decode()
    rows: Sequence[Any] = (await conn.exec_driver_sql(_SQLITE_EVENTS, (wanted,))).all()
    events = {row[0]: row for row in rows}  # the body comes as bytes (a BLOB): no copy
    return [
        Leased(delivery_id, attempts, _sqlite_moment(created_at), *events[event_id])
        for delivery_id, attempts, created_at, event_id in leased
    ]


# A row's columns are Leased's fields: made straight from the record (tuple.__new__ is what
# Leased._make calls, less its Python frame, which a thousand rows a claim made visible).
_leased = partial(tuple.__new__, Leased)
