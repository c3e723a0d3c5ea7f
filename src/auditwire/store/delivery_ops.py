"""Reading and steering the outbox: destination health, queue figures, replay and retry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from auditwire.domain.delivery import StoredDestination
from auditwire.domain.delivery_log import DestinationHealth, QueueStats, health_state
from auditwire.domain.events import EntityType, as_utc
from auditwire.domain.retry import Circuit, CircuitState
from auditwire.domain.routing import Route
from auditwire.store.deliveries import _OUTBOX_FLAG as OUTBOX_FLAG
from auditwire.store.deliveries import (
    FAILED,
    NOTIFY_CHANNEL,
    PENDING,
    stored_from_row,
)
from auditwire.store.schema import (
    audit_events,
    deliveries,
    streaming_destinations,
    streaming_headers,
)

_dest = streaming_destinations
_d = deliveries
_e = audit_events


# Health -------------------------------------------------------------------------------------


async def destination_health(
    conn: AsyncConnection, destination_ids: Sequence[int] | None = None
) -> list[DestinationHealth]:
    """The health of these destinations (all when None), in id order, in two queries."""
    query = sa.select(_dest).order_by(_dest.c.id)
    counts_query = sa.select(_d.c.destination_id, _d.c.state, sa.func.count()).group_by(
        _d.c.destination_id, _d.c.state
    )
    if destination_ids is not None:
        query = query.where(_dest.c.id.in_(destination_ids))
        counts_query = counts_query.where(_d.c.destination_id.in_(destination_ids))
    rows = list(await conn.execute(query))
    if not rows:
        return []
    counts = {(dest_id, state): n for dest_id, state, n in await conn.execute(counts_query)}
    return [
        DestinationHealth(
            destination_id=r.id,
            group_id=r.group_id,
            name=r.name,
            state=health_state(
                active=r.active,
                circuit_open=r.circuit_state == CircuitState.OPEN.value,
                consecutive_failures=r.consecutive_failures,
            ),
            pending_count=counts.get((r.id, PENDING), 0),
            failed_count=counts.get((r.id, FAILED), 0),
            consecutive_failures=r.consecutive_failures,
            last_success_at=as_utc(r.last_success_at) if r.last_success_at else None,
            last_failure_at=as_utc(r.last_failure_at) if r.last_failure_at else None,
            last_error=r.last_error,
        )
        for r in rows
    ]


async def queue_stats(conn: AsyncConnection) -> QueueStats:
    """Pending and failed deliveries, the oldest pending one's creation, open circuits."""
    pending, failed, oldest = (
        await conn.execute(
            sa.select(
                sa.func.count().filter(_d.c.state == PENDING),
                sa.func.count().filter(_d.c.state == FAILED),
                sa.func.min(_d.c.created_at).filter(_d.c.state == PENDING),
            )
        )
    ).one()
    open_circuits = (
        await conn.execute(
            sa.select(sa.func.count()).where(
                _dest.c.active.is_(True), _dest.c.circuit_state == CircuitState.OPEN.value
            )
        )
    ).scalar_one()
    return QueueStats(
        pending=int(pending),
        failed=int(failed),
        oldest_pending_at=as_utc(oldest) if oldest is not None else None,
        open_circuits=int(open_circuits),
    )


# One destination as the sender needs it -------------------------------------------------------


async def load_stored_destination(
    conn: AsyncConnection, destination_id: int
) -> StoredDestination | None:
    """A destination, active or not, with its active headers, secrets still encrypted."""
    row = (await conn.execute(sa.select(_dest).where(_dest.c.id == destination_id))).first()
    if row is None:
        return None
    h = streaming_headers
    headers = await conn.execute(
        sa.select(h.c.key, h.c.value)
        .where(h.c.destination_id == destination_id, h.c.active.is_(True))
        .order_by(h.c.id)
    )
    circuit = Circuit(CircuitState(row.circuit_state), row.consecutive_failures)
    return stored_from_row(row, ((key, bytes(value)) for key, value in headers), circuit)


# Replay and retry -----------------------------------------------------------------------------


def route_matches(route: Route) -> sa.ColumnElement[bool]:
    """`Route.matches` as SQL over audit_events, so a replay selects in the database."""
    conditions: list[sa.ColumnElement[bool]] = []
    if route.group_id is not None:
        conditions.append(_e.c.root_group_id == route.group_id)
    if route.event_types:
        conditions.append(_e.c.event_type.in_(sorted(route.event_types)))
    scopes: list[sa.ColumnElement[bool]] = []
    if route.project_ids:
        scopes.append(
            sa.and_(
                _e.c.entity_type == EntityType.PROJECT.value,
                _e.c.entity_id.in_(route.project_ids),
            )
        )
    for path in route.namespace_paths:
        below = _e.c.entity_path.startswith(path + "/", autoescape=True)
        scopes.append(
            sa.and_(
                _e.c.entity_type.in_([EntityType.GROUP.value, EntityType.PROJECT.value]),
                sa.or_(_e.c.entity_path == path, below),
            )
        )
    if scopes:
        conditions.append(sa.or_(*scopes))
    return sa.and_(sa.true(), *conditions)


def _window_events(route: Route, after: datetime, before: datetime) -> sa.Select[tuple[int]]:
    return sa.select(_e.c.id).where(
        _e.c.created_at >= after, _e.c.created_at <= before, route_matches(route)
    )


def _not_pending(destination_id: int) -> sa.ColumnElement[bool]:
    return ~sa.exists().where(
        _d.c.event_id == _e.c.id, _d.c.destination_id == destination_id, _d.c.state == PENDING
    )


async def count_replayable(
    conn: AsyncConnection, route: Route, after: datetime, before: datetime
) -> int:
    """Events of the window that match the route and are not already pending for it."""
    query = _window_events(route, after, before).where(_not_pending(route.destination_id))
    count = await conn.execute(sa.select(sa.func.count()).select_from(query.subquery()))
    return int(count.scalar_one())


async def replay(
    conn: AsyncConnection, route: Route, after: datetime, before: datetime, now: datetime
) -> int:
    """Queue the window's matching events for the route's destination again, due now.

    An event already pending for the destination is left as it is (a second replay of the same
    window queues nothing new); one that failed for good is made pending again; the rest get
    a new pending delivery. Returns how many were queued."""
    destination_id = route.destination_id
    window = _window_events(route, after, before)
    revived = await conn.execute(
        _d.update()
        .where(
            _d.c.destination_id == destination_id,
            _d.c.state == FAILED,
            _d.c.event_id.in_(window.scalar_subquery()),
        )
        .values(_requeued(now))
    )
    fresh = window.where(
        ~sa.exists().where(_d.c.event_id == _e.c.id, _d.c.destination_id == destination_id)
    ).with_only_columns(
        _e.c.id,
        sa.literal(destination_id, sa.BigInteger),
        sa.literal(PENDING),
        sa.literal(0),
        sa.literal(now, _d.c.next_attempt_at.type),
        sa.literal(now, _d.c.created_at.type),
    )
    inserted = await conn.execute(
        _d.insert().from_select(
            ["event_id", "destination_id", "state", "attempts", "next_attempt_at", "created_at"],
            fresh,
        )
    )
    queued = int(revived.rowcount) + int(inserted.rowcount)
    if queued:
        await _announce(conn)
    return queued


async def retry_failed(conn: AsyncConnection, destination_id: int, now: datetime) -> int:
    """Make every failed delivery of the destination pending again, due now, with a fresh
    maximum age. Returns how many."""
    result = await conn.execute(
        _d.update()
        .where(_d.c.destination_id == destination_id, _d.c.state == FAILED)
        .values(_requeued(now))
    )
    queued = int(result.rowcount)
    if queued:
        await _announce(conn)
    return queued


def _requeued(now: datetime) -> dict[str, object]:
    return {
        "state": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "lease_expires_at": None,
        "last_error": None,
    }


async def _announce(conn: AsyncConnection) -> None:
    """Wake the workers when this transaction commits, as a newly recorded event does."""
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.select(sa.func.pg_notify(NOTIFY_CHANNEL, "")))
    conn.sync_connection.info[OUTBOX_FLAG] = True  # type: ignore[union-attr]
