"""The delivery outbox: the only SQL that writes, claims and settles deliveries.

A pending delivery is due when `next_attempt_at <= now` and it holds no lease that is still
running (`lease_expires_at` NULL or past): the rule of `store.due`, which both claims lease
by. Claiming sets `lease_expires_at` to the end of a
lease, so a claim whose worker died becomes due again when its lease expires: SIGKILL at any
moment loses nothing and at most repeats a POST. Claims walk each wanted destination's due
rows in time order through the index (destination_id, state, next_attempt_at), so a
destination's backlog never slows another's; the lease touches no indexed column, so on
PostgreSQL leasing is a HOT update (no new index entries; see migration 0006), and a claim
steps over the rows leased at the head of the index.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from functools import partial
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncConnection

from auditwire.config import Plan
from auditwire.domain.delivery import (
    BatchResult,
    Claimed,
    Deactivated,
    EventRef,
    Result,
    Settle,
    Settled,
    StoredDestination,
)
from auditwire.domain.events import AuditEvent, NewAuditEvent, as_utc
from auditwire.domain.retry import Circuit, CircuitPolicy, CircuitState
from auditwire.domain.routing import Route, fan_out
from auditwire.store.attempts import insert_attempts
from auditwire.store.database import Store, driver_connection
from auditwire.store.destination_revision import bump_revision
from auditwire.store.due import due_ids
from auditwire.store.events import insert_events, sqlite_time
from auditwire.store.schema import (
    deliveries,
    namespaces,
    streaming_destinations,
    streaming_event_type_filters,
    streaming_headers,
    streaming_namespace_filters,
)
from auditwire.store.stream_bodies import PG_BODY, SQLITE_BODY, sqlite_moment

NOTIFY_CHANNEL = "auditwire_deliveries"
PENDING = "pending"
FAILED = "failed"
ERROR_MAX_LENGTH = 500  # characters of an error kept on a delivery or destination
_OUTBOX_FLAG = "auditwire_outbox_written"

_dest = streaming_destinations

# PostgreSQL claims every wanted destination's rows in one statement. SKIP LOCKED lets any
# number of workers claim side by side without waiting on each other's rows. The hot path's
# PostgreSQL statements go straight to asyncpg, which keeps them prepared: SQLAlchemy's
# per-call work (parameter processing, expanding IN lists, result rows) cost more CPU than
# PostgreSQL spent running them.
# The picked ids go to the UPDATE as an array, found through the primary key: joined as a CTE,
# PostgreSQL hashed the whole backlog on every claim (as in store/batch_claims.py).
# Each row comes with its event's stream body rendered by the database (`store.stream_bodies`).
_PG_CLAIM = f"""
    WITH claimed AS (
        UPDATE deliveries
        SET lease_expires_at = $4, attempts = deliveries.attempts + 1
        WHERE deliveries.id = ANY(ARRAY(
            SELECT p.id FROM unnest($1::bigint[], $2::int[]) AS w(destination_id, n)
            CROSS JOIN LATERAL ({due_ids("w.destination_id", "$3", "w.n", skip_locked=True)}) p
        ))
        RETURNING deliveries.id, deliveries.event_id, deliveries.destination_id,
                  deliveries.attempts, deliveries.created_at
    )
    SELECT claimed.id, claimed.destination_id, claimed.attempts, claimed.created_at,
           e.id, e.event_type, e.entity_type, {PG_BODY}
    FROM claimed JOIN audit_events e ON e.id = claimed.event_id
"""
_PG_DELETE_DELIVERED = "DELETE FROM deliveries WHERE id = ANY($1::bigint[])"
_PG_STILL_HEALTHY = """
    UPDATE streaming_destinations SET last_success_at = $2
    WHERE id = ANY($1::bigint[]) AND circuit_state = 'closed' AND consecutive_failures = 0
"""


# Built once: SQLAlchemy then finds the compiled form in its cache instead of building and
# keying a new statement on every call (statement construction showed in profiles).
_nf = streaming_namespace_filters
_owner = namespaces.alias("owner_group")
# A group's destinations receive an event only while the group is on Ultimate when the event
# is recorded, as GitLab's GroupExternalDestinationStrategy checks the root group's
# `external_audit_events` licence per event. A top-level group always holds its plan.
_ROUTES = (
    sa.select(
        _dest.c.id,
        _dest.c.group_id,
        streaming_event_type_filters.c.audit_event_type,
        namespaces.c.full_path,
        _nf.c.project_id,
    )
    .select_from(_dest)
    .outerjoin(_owner, _owner.c.id == _dest.c.group_id)
    .outerjoin(
        streaming_event_type_filters,
        streaming_event_type_filters.c.destination_id == _dest.c.id,
    )
    .outerjoin(_nf, _nf.c.destination_id == _dest.c.id)
    .outerjoin(namespaces, namespaces.c.id == _nf.c.group_id)
    .where(
        _dest.c.active.is_(True),
        sa.or_(
            _dest.c.group_id.is_(None),
            sa.and_(
                _dest.c.group_id.in_(sa.bindparam("groups", expanding=True)),
                _owner.c.plan == Plan.ULTIMATE.value,
            ),
        ),
    )
)
_DELIVERY_COLUMNS = [
    "event_id",
    "destination_id",
    "state",
    "attempts",
    "next_attempt_at",
    "created_at",
]
_SQLITE_INSERT_PENDING = (
    f"INSERT INTO deliveries ({', '.join(_DELIVERY_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(_DELIVERY_COLUMNS))})"
)


# Fan-out ------------------------------------------------------------------------------------


async def routes_for(conn: AsyncConnection, root_group_ids: Iterable[int]) -> list[Route]:
    """Every active destination that may receive events of these top-level groups (the group
    destinations of those on Ultimate now, and all instance destinations), with its filters,
    in one query."""
    groups = sorted(set(root_group_ids))
    rows = await conn.execute(_ROUTES, {"groups": groups})
    found: dict[int, tuple[int | None, set[str], set[str], set[int]]] = {}
    for dest_id, group_id, event_type, path, project_id in rows:
        entry = found.setdefault(dest_id, (group_id, set(), set(), set()))
        if event_type is not None:
            entry[1].add(event_type)
        if path is not None:
            entry[2].add(path)
        if project_id is not None:
            entry[3].add(project_id)
    return [
        Route(dest_id, group_id, frozenset(types), tuple(sorted(paths)), tuple(sorted(project_ids)))
        for dest_id, (group_id, types, paths, project_ids) in sorted(found.items())
    ]


async def insert_pending(
    conn: AsyncConnection, pairs: Sequence[tuple[int, int]], now: datetime
) -> None:
    """One pending delivery per (event id, destination id), in one executemany; due now.

    On PostgreSQL a NOTIFY in the same transaction wakes workers in other processes when it
    commits; in this process the commit hook below wakes them."""
    if not pairs:
        return
    # Ready-made tuples straight to the driver (COPY on PostgreSQL): SQLAlchemy's per-row
    # parameter processing cost more than the inserts themselves.
    if conn.dialect.name == "postgresql":
        driver = await driver_connection(conn)
        records = [(e, d, PENDING, 0, now, now) for e, d in pairs]
        await driver.copy_records_to_table("deliveries", records=records, columns=_DELIVERY_COLUMNS)
        await driver.execute(f"NOTIFY {NOTIFY_CHANNEL}")
    else:
        at = sqlite_time(now)
        rows = [(e, d, PENDING, 0, at, at) for e, d in pairs]
        await conn.exec_driver_sql(_SQLITE_INSERT_PENDING, rows)
    conn.sync_connection.info[_OUTBOX_FLAG] = True  # type: ignore[union-attr]


async def record_events(
    conn: AsyncConnection, events: Sequence[NewAuditEvent], now: datetime
) -> list[AuditEvent]:
    """Insert events with one pending delivery per matching active destination, in the
    caller's transaction: the events and their deliveries commit or vanish together."""
    recorded = await insert_events(conn, events, now)
    if recorded:
        roots = {e.root_group_id for e in recorded if e.root_group_id is not None}
        routes = await routes_for(conn, roots)
        await insert_pending(conn, fan_out(recorded, routes), now)
    return recorded


def on_outbox_commit(store: Store, callback: Callable[[], object]) -> Callable[[], None]:
    """Call `callback` after each commit in this process that wrote pending deliveries.
    Returns the function that removes the hook."""

    def committed(conn: Any) -> None:
        if conn.info.pop(_OUTBOX_FLAG, False):
            callback()

    def rolled_back(conn: Any) -> None:
        # A task cancelled inside a database call leaves its connection invalidated: then
        # `conn.info` raises PendingRollbackError (or checks out a new connection), and the flag
        # went with the discarded connection anyway, whose record clears `info` on reconnect.
        if not conn.invalidated:
            conn.info.pop(_OUTBOX_FLAG, None)

    engines = store.sync_engines
    for engine in engines:
        sa_event.listen(engine, "commit", committed)
        sa_event.listen(engine, "rollback", rolled_back)

    def remove() -> None:
        for engine in engines:
            sa_event.remove(engine, "commit", committed)
            sa_event.remove(engine, "rollback", rolled_back)

    return remove


# Destinations as workers see them ------------------------------------------------------------


def stored_from_row(
    r: sa.Row[Any], headers: Iterable[tuple[str, bytes]], circuit: Circuit
) -> StoredDestination:
    return StoredDestination(
        id=r.id,
        group_id=r.group_id,
        name=r.name,
        category=r.category,
        config=dict(r.config or {}),
        secret_token=bytes(r.secret_token),
        signing_secret=bytes(r.signing_secret),
        active=r.active,
        updated_at=as_utc(r.updated_at),
        circuit=circuit,
        headers=tuple(headers),
    )


async def load_destinations(conn: AsyncConnection) -> list[StoredDestination]:
    """Every active destination with its active headers (two queries)."""
    rows = (await conn.execute(sa.select(_dest).where(_dest.c.active.is_(True)))).all()
    headers: dict[int, list[tuple[str, bytes]]] = {}
    if rows:
        h = streaming_headers
        query = (
            sa.select(h.c.destination_id, h.c.key, h.c.value)
            .where(h.c.active.is_(True), h.c.destination_id.in_([r.id for r in rows]))
            .order_by(h.c.id)
        )
        for dest_id, key, value in await conn.execute(query):
            headers.setdefault(dest_id, []).append((key, bytes(value)))
    return [
        stored_from_row(
            r,
            headers.get(r.id, ()),
            _circuit(r.circuit_state, r.consecutive_failures, r.circuit_open_until),
        )
        for r in rows
    ]


def _circuit(state: str, failures: int, open_until: datetime | None) -> Circuit:
    return Circuit(
        CircuitState(state), failures, as_utc(open_until) if open_until is not None else None
    )


# Claims -------------------------------------------------------------------------------------

_d = deliveries
# SQLite: each statement returns at most one row, the rows it found as one JSON array. The
# driver releases the GIL around each step of a statement and waits for it again after, and
# while the event loop is busy sending, each wait was up to a switch interval: a claim that
# stepped through a row per delivery held SQLite's one write lock many times longer than
# its work took. So the due ids are picked per destination (no LATERAL), leased in one
# UPDATE, and read back with their events' stream bodies rendered by SQLite
# (`store.stream_bodies`; `|| ''` makes each body a JSON string in the array, not an object).
_SQLITE_DUE = f"SELECT json_group_array(id) FROM ({due_ids('?1', '?2', '?3')})"
_SQLITE_LEASE = """
    UPDATE deliveries SET lease_expires_at = ?, attempts = attempts + 1
    WHERE id IN (SELECT value FROM json_each(?))
"""
_SQLITE_CLAIMED = f"""
    SELECT json_group_array(json_array(
        d.id, d.destination_id, d.attempts, d.created_at,
        e.id, e.event_type, e.entity_type, {SQLITE_BODY} || ''))
    FROM json_each(?) AS picked
    JOIN deliveries d ON d.id = picked.value
    JOIN audit_events e ON e.id = d.event_id
"""


# Each row's tuples made straight from its columns (tuple.__new__ is what a NamedTuple's
# constructor calls, less its Python frame: two frames per delivery showed in profiles).
_claimed = partial(tuple.__new__, Claimed)
_event = partial(tuple.__new__, EventRef)


async def claim(
    conn: AsyncConnection,
    wanted: dict[int, int],
    now: datetime,
    lease_until: datetime,
    *,
    probes: frozenset[int] = frozenset(),
) -> list[Claimed]:
    """Lease up to `wanted[destination_id]` due deliveries of each active destination, each
    with its event's stream body as the database renders it."""
    wanted = {d: n for d, n in wanted.items() if n > 0}
    if not wanted:
        return []
    if conn.dialect.name == "postgresql":
        # One round trip: claim, read the events and render their bodies in one statement.
        driver = await driver_connection(conn)
        records = await driver.fetch(
            _PG_CLAIM, list(wanted), list(wanted.values()), now, lease_until
        )
        return [
            _claimed((r[0], r[1], r[2], r[3], _event((r[4], r[5], r[6])), r[7], r[1] in probes))
            for r in records
        ]
    at, lease = sqlite_time(now), sqlite_time(lease_until)
    ids: list[int] = []
    for destination_id, n in wanted.items():
        found = await conn.exec_driver_sql(_SQLITE_DUE, (destination_id, at, n))
        ids.extend(orjson.loads(found.scalar_one()))
    if not ids:
        return []
    picked = orjson.dumps(ids).decode()
    await conn.exec_driver_sql(_SQLITE_LEASE, (lease, picked))
    rows = orjson.loads((await conn.exec_driver_sql(_SQLITE_CLAIMED, (picked,))).scalar_one())
    return [
        _claimed(
            (
                delivery_id,
                destination_id,
                attempts,
                sqlite_moment(created_at),
                _event((event_id, event_type, entity_type)),
                body.encode(),
                destination_id in probes,
            )
        )
        for (
            delivery_id,
            destination_id,
            attempts,
            created_at,
            event_id,
            event_type,
            entity_type,
            body,
        ) in rows
    ]


async def take_probe(
    conn: AsyncConnection, destination_id: int, now: datetime, lease_until: datetime
) -> bool:
    """Take the one probe of an open circuit that is due; False when another worker has it."""
    result = await conn.execute(
        _dest.update()
        .where(
            _dest.c.id == destination_id,
            _dest.c.circuit_state == CircuitState.OPEN.value,
            sa.or_(_dest.c.circuit_open_until.is_(None), _dest.c.circuit_open_until <= now),
        )
        .values(circuit_open_until=lease_until)
    )
    return result.rowcount == 1


async def close_circuit(conn: AsyncConnection, destination_id: int) -> None:
    """Close a circuit whose probe found nothing to send: there is no backlog to protect."""
    await conn.execute(
        _dest.update()
        .where(_dest.c.id == destination_id)
        .values(
            circuit_state=CircuitState.CLOSED.value, consecutive_failures=0, circuit_open_until=None
        )
    )


# Outcomes -----------------------------------------------------------------------------------


# The statements of every settle, built once for SQLAlchemy's compiled cache.
_SQLITE_DELETE_DELIVERED = "DELETE FROM deliveries WHERE id IN (SELECT value FROM json_each(?))"
_STILL_HEALTHY = (
    _dest.update()
    .where(
        _dest.c.id.in_(sa.bindparam("ids", expanding=True)),
        _dest.c.circuit_state == CircuitState.CLOSED.value,
        _dest.c.consecutive_failures == 0,
    )
    .values(last_success_at=sa.bindparam("now"))
)


async def record_outcomes(
    conn: AsyncConnection, results: Sequence[Result], now: datetime, policy: CircuitPolicy
) -> Settled:
    """Settle a batch of attempts and update their destinations' health, in a few statements."""
    d = deliveries
    by_kind: dict[Settle, list[Result]] = {}
    for r in results:
        by_kind.setdefault(r.settle, []).append(r)
    postgresql = conn.dialect.name == "postgresql"
    if done := by_kind.get(Settle.DELIVERED):
        ids = [r.delivery_id for r in done]
        if postgresql:
            await (await driver_connection(conn)).execute(_PG_DELETE_DELIVERED, ids)
        else:
            await conn.exec_driver_sql(_SQLITE_DELETE_DELIVERED, (orjson.dumps(ids).decode(),))
    reschedule = d.update().where(d.c.id == sa.bindparam("b_id"))
    if retry := by_kind.get(Settle.RETRY):
        await conn.execute(
            reschedule.values(
                next_attempt_at=sa.bindparam("b_at"),
                lease_expires_at=None,
                last_error=sa.bindparam("b_error"),
            ),
            [{"b_id": r.delivery_id, "b_at": r.at, "b_error": _clip(r.error)} for r in retry],
        )
    if failed := by_kind.get(Settle.FAILED):
        await conn.execute(
            reschedule.values(state=FAILED, lease_expires_at=None, last_error=sa.bindparam("b_e")),
            [{"b_id": r.delivery_id, "b_e": _clip(r.error)} for r in failed],
        )
    if gone := by_kind.get(Settle.GONE):
        await conn.execute(
            d.update()
            .where(d.c.id.in_([r.delivery_id for r in gone]))
            .values(next_attempt_at=now, lease_expires_at=None, last_error="410 Gone")
        )
    if released := by_kind.get(Settle.RELEASE):
        await conn.execute(
            d.update()
            .where(d.c.id.in_([r.delivery_id for r in released]))
            .values(next_attempt_at=now, lease_expires_at=None, attempts=d.c.attempts - 1)
        )
    await insert_attempts(conn, [r.attempt for r in results if r.attempt is not None])
    circuits = await _update_health(conn, results, now, policy)
    deactivated: list[Deactivated] = []
    if gone:
        statement = (
            _dest.update()
            .where(_dest.c.id.in_({r.destination_id for r in gone}), _dest.c.active.is_(True))
            .values(active=False, updated_at=now)
            .returning(_dest.c.id, _dest.c.group_id, _dest.c.name, _dest.c.category)
        )
        deactivated = [Deactivated(*row) for row in await conn.execute(statement)]
        if deactivated:
            await bump_revision(conn)
    return Settled(deactivated, circuits)


_PG_RETRY_IDS = """
    UPDATE deliveries SET next_attempt_at = $2, lease_expires_at = NULL, last_error = $3
    WHERE id = ANY($1::bigint[])
"""
_PG_FAIL_IDS = """
    UPDATE deliveries SET state = 'failed', lease_expires_at = NULL, last_error = $2
    WHERE id = ANY($1::bigint[])
"""
_PG_GONE_IDS = """
    UPDATE deliveries SET next_attempt_at = $2, lease_expires_at = NULL, last_error = '410 Gone'
    WHERE id = ANY($1::bigint[])
"""
_PG_RELEASE_IDS = """
    UPDATE deliveries SET next_attempt_at = $2, lease_expires_at = NULL,
        attempts = attempts - 1
    WHERE id = ANY($1::bigint[])
"""


async def record_batch(
    conn: AsyncConnection, batch: BatchResult, now: datetime, policy: CircuitPolicy
) -> Settled:
    """Settle a batch: one statement per outcome group, its one attempt record, and its
    destination's health updated as for one attempt (a failed batch is one failure)."""
    if conn.dialect.name == "postgresql":
        driver = await driver_connection(conn)
        for group in batch.groups:
            ids = list(group.delivery_ids)
            match group.settle:
                case Settle.DELIVERED:
                    await driver.execute(_PG_DELETE_DELIVERED, ids)
                case Settle.RETRY:
                    await driver.execute(_PG_RETRY_IDS, ids, group.at, _clip(group.error))
                case Settle.FAILED:
                    await driver.execute(_PG_FAIL_IDS, ids, _clip(group.error))
                case Settle.GONE:
                    await driver.execute(_PG_GONE_IDS, ids, now)
                case Settle.RELEASE:
                    await driver.execute(_PG_RELEASE_IDS, ids, now)
    else:
        d = deliveries
        for group in batch.groups:
            chosen = d.c.id.in_(group.delivery_ids)
            match group.settle:
                case Settle.DELIVERED:  # ids as one JSON parameter: no IN list of 1,000 built
                    chosen_ids = orjson.dumps(group.delivery_ids).decode()
                    await conn.exec_driver_sql(_SQLITE_DELETE_DELIVERED, (chosen_ids,))
                    continue
                case Settle.RETRY:
                    values: dict[str, Any] = {
                        "next_attempt_at": group.at,
                        "last_error": _clip(group.error),
                    }
                case Settle.FAILED:
                    values = {"state": FAILED, "last_error": _clip(group.error)}
                case Settle.GONE:
                    values = {"next_attempt_at": now, "last_error": "410 Gone"}
                case Settle.RELEASE:
                    values = {"next_attempt_at": now, "attempts": d.c.attempts - 1}
            await conn.execute(d.update().where(chosen).values(lease_expires_at=None, **values))
    if batch.attempt is not None:
        await insert_attempts(conn, [batch.attempt], batches=True)
    attempt = batch.as_attempt()
    circuits = await _update_health(conn, [attempt], now, policy)
    deactivated: list[Deactivated] = []
    if batch.settle is Settle.GONE:
        statement = (
            _dest.update()
            .where(_dest.c.id == batch.destination_id, _dest.c.active.is_(True))
            .values(active=False, updated_at=now)
            .returning(_dest.c.id, _dest.c.group_id, _dest.c.name, _dest.c.category)
        )
        deactivated = [Deactivated(*row) for row in await conn.execute(statement)]
        if deactivated:
            await bump_revision(conn)
    return Settled(deactivated, circuits)


def _clip(error: str | None) -> str | None:
    return error[:ERROR_MAX_LENGTH] if error else error


async def _update_health(
    conn: AsyncConnection, results: Sequence[Result], now: datetime, policy: CircuitPolicy
) -> dict[int, Circuit]:
    attempted = [r for r in results if r.settle is not Settle.RELEASE]
    if not attempted:
        return {}
    ids = sorted({r.destination_id for r in attempted})
    if all(r.settle is Settle.DELIVERED for r in attempted):
        # The common case, in one statement: successes to destinations already healthy.
        if conn.dialect.name == "postgresql":
            status = await (await driver_connection(conn)).execute(_PG_STILL_HEALTHY, ids, now)
            updated = int(status.rsplit(" ", 1)[-1])  # "UPDATE <rows>"
        else:
            updated = (await conn.execute(_STILL_HEALTHY, {"ids": ids, "now": now})).rowcount
        if updated == len(ids):
            return {}
    query = sa.select(
        _dest.c.id, _dest.c.circuit_state, _dest.c.consecutive_failures, _dest.c.circuit_open_until
    ).where(_dest.c.id.in_(ids))
    if conn.dialect.name == "postgresql":
        query = query.order_by(_dest.c.id).with_for_update()
    before = {row.id: _circuit(*row[1:]) for row in await conn.execute(query)}
    after = dict(before)
    success: set[int] = set()
    failure: dict[int, str | None] = {}
    for r in attempted:
        circuit = after.get(r.destination_id)
        if circuit is None:  # destroyed meanwhile
            continue
        if r.settle is Settle.DELIVERED:
            after[r.destination_id] = circuit.after_success()
            success.add(r.destination_id)
        else:
            after[r.destination_id] = circuit.after_failure(now, policy, probe=r.probe)
            failure[r.destination_id] = r.error
    rows = [
        {
            "b_id": dest_id,
            "b_state": circuit.state.value,
            "b_failures": circuit.consecutive_failures,
            "b_until": circuit.open_until,
        }
        for dest_id, circuit in after.items()
        if circuit != before[dest_id]
    ]
    if rows:
        await conn.execute(
            _dest.update()
            .where(_dest.c.id == sa.bindparam("b_id"))
            .values(
                circuit_state=sa.bindparam("b_state"),
                consecutive_failures=sa.bindparam("b_failures"),
                circuit_open_until=sa.bindparam("b_until"),
            ),
            rows,
        )
    if success:
        await conn.execute(
            _dest.update().where(_dest.c.id.in_(success)).values(last_success_at=now)
        )
    for dest_id, error in failure.items():
        await conn.execute(
            _dest.update()
            .where(_dest.c.id == dest_id)
            .values(last_failure_at=now, last_error=_clip(error))
        )
    reopened = [i for i in after if before[i].state is CircuitState.OPEN and i in success]
    if reopened:  # the circuit closed: its backlog is due at once instead of at its backoff
        d = deliveries
        await conn.execute(
            d.update()
            .where(
                d.c.destination_id.in_(reopened),
                d.c.state == PENDING,
                d.c.next_attempt_at > now,
                sa.or_(d.c.lease_expires_at.is_(None), d.c.lease_expires_at <= now),
            )
            .values(next_attempt_at=now)
        )
    return {i: c for i, c in after.items() if c != before[i]}


# Inspection ---------------------------------------------------------------------------------


async def count_by_state(conn: AsyncConnection) -> dict[str, int]:
    """How many deliveries are pending and failed (delivered ones are deleted)."""
    query = sa.select(deliveries.c.state, sa.func.count()).group_by(deliveries.c.state)
    return {state: count for state, count in await conn.execute(query)}
