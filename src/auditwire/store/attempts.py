"""The delivery log: attempt records written with their outcomes, read newest first, pruned.

Rows are written by the worker in the same transaction as the outcomes they describe (one
executemany per batch) and deleted only by `prune`, which touches nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from auditwire.domain.delivery_log import AttemptOutcome, AttemptRecord
from auditwire.domain.events import as_utc
from auditwire.store.database import driver_connection
from auditwire.store.events import sqlite_time
from auditwire.store.schema import delivery_attempts

ERROR_MAX_LENGTH = 500  # characters of an error kept on an attempt record
PRUNE_BATCH = 5_000  # rows deleted per statement, so no prune holds the database for long

_a = delivery_attempts
_COLUMNS = [
    "destination_id",
    "event_id",
    "event_type",
    "attempted_at",
    "status_code",
    "duration_ms",
    "error",
    "outcome",
]
_BATCH_COLUMNS = [*_COLUMNS, "event_count", "last_event_id"]
_ATTEMPTED_AT = _COLUMNS.index("attempted_at")


def _sqlite_insert(columns: list[str]) -> str:
    """Rows given as one JSON array of arrays: one statement, one step of the driver (an
    executemany steps once per row, and the driver waits for the GIL after each step, which
    under a busy event loop made an insert of a few hundred rows last many milliseconds)."""
    values = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(columns)))
    return f"INSERT INTO {_a.name} ({', '.join(columns)}) SELECT {values} FROM json_each(?)"


_SQLITE_INSERT = _sqlite_insert(_COLUMNS)
_SQLITE_INSERT_BATCHES = _sqlite_insert(_BATCH_COLUMNS)


async def insert_attempts(
    conn: AsyncConnection, records: Sequence[AttemptRecord], *, batches: bool = False
) -> None:
    """Store a batch of attempt records: one COPY on PostgreSQL, one executemany on SQLite.
    With `batches`, each record's event count and last event id too (per-event records keep
    the columns' defaults, so their hot path writes no more than it did)."""
    if not records:
        return
    rows: list[tuple[Any, ...]] = [
        (
            r.destination_id,
            r.event_id,
            r.event_type,
            r.attempted_at,
            r.status_code,
            r.duration_ms,
            r.error[:ERROR_MAX_LENGTH] if r.error else r.error,
            r.outcome.value,
        )
        for r in records
    ]
    columns = _COLUMNS
    if batches:
        columns = _BATCH_COLUMNS
        rows = [
            (*row, r.event_count, r.last_event_id) for row, r in zip(rows, records, strict=True)
        ]
    if conn.dialect.name == "postgresql":
        # COPY on the transaction's own connection: a third of the client CPU and half the
        # time of an executemany, on the worker's hot path.
        driver = await driver_connection(conn)
        await driver.copy_records_to_table(_a.name, columns=columns, records=rows)
        return
    # Ready-made rows straight to the driver, timestamps in SQLAlchemy's storage form:
    # SQLAlchemy's per-row parameter processing cost more than SQLite's inserts.
    statement = _SQLITE_INSERT_BATCHES if batches else _SQLITE_INSERT
    at = _ATTEMPTED_AT
    encoded = orjson.dumps([(*row[:at], sqlite_time(row[at]), *row[at + 1 :]) for row in rows])
    await conn.exec_driver_sql(statement, (encoded.decode(),))


def _from_row(row: sa.Row[Any]) -> AttemptRecord:
    return AttemptRecord(
        id=row.id,
        destination_id=row.destination_id,
        event_id=row.event_id,
        event_type=row.event_type,
        attempted_at=as_utc(row.attempted_at),
        duration_ms=row.duration_ms,
        outcome=AttemptOutcome(row.outcome),
        status_code=row.status_code,
        error=row.error,
        event_count=row.event_count,
        last_event_id=row.last_event_id,
    )


async def list_attempts(
    conn: AsyncConnection,
    destination_id: int,
    *,
    limit: int,
    before_id: int | None = None,
    outcome: AttemptOutcome | None = None,
) -> list[AttemptRecord]:
    """A destination's attempts, newest first: up to `limit` older than `before_id`."""
    query = sa.select(_a).where(_a.c.destination_id == destination_id)
    if before_id is not None:
        query = query.where(_a.c.id < before_id)
    if outcome is not None:
        query = query.where(_a.c.outcome == outcome.value)
    rows = await conn.execute(query.order_by(_a.c.id.desc()).limit(limit))
    return [_from_row(r) for r in rows]


async def prune_batch(conn: AsyncConnection, older_than: datetime) -> int:
    """Delete up to PRUNE_BATCH attempt records from before `older_than`; how many went."""
    oldest = (
        sa.select(_a.c.id)
        .where(_a.c.attempted_at < older_than)
        .order_by(_a.c.attempted_at)
        .limit(PRUNE_BATCH)
    )
    result = await conn.execute(_a.delete().where(_a.c.id.in_(oldest.scalar_subquery())))
    return int(result.rowcount)
