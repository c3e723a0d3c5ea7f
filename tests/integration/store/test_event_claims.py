"""The per-event claim's stream bodies, rendered by the database, are the JSON that
`AuditEvent.stream_body()` renders in Python, and each claimed delivery carries its event's
id, type and entity type, on both backends and on SQLite's one-hop write path too."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from auditwire.domain.delivery import Claimed
from auditwire.domain.events import as_utc
from auditwire.domain.routing import Route
from auditwire.services import events as event_service
from auditwire.services.container import Services
from auditwire.store import delivery_ops
from auditwire.store.deliveries import claim
from auditwire.store.events import event_from_row
from auditwire.store.schema import audit_events, deliveries
from tests.integration.store.test_batch_claims import ordered, tricky_events
from tests.integration.streaming.factories import add_destination

LONG_AGO = timedelta(days=365 * 30)


async def test_claimed_bodies_are_the_stream_bodies_json_for_every_destination(
    services: Services,
) -> None:
    async with services.store.write() as conn:
        await event_service.record(conn, tricky_events())
    first = await add_destination(services, "http://127.0.0.1:9/one")
    second = await add_destination(services, "http://127.0.0.1:9/two")
    now = datetime.now(UTC)
    async with services.store.write() as conn:
        for destination in (first, second):
            route = Route(destination.id, None, frozenset(), (), ())
            await delivery_ops.replay(conn, route, now - LONG_AGO, now, now)

    async def work(conn: AsyncConnection) -> list[Claimed]:
        wanted = {first.id: 1000, second.id: 1000}
        return await claim(conn, wanted, now, now + timedelta(minutes=1), probes={second.id})

    # The worker's path: the whole transaction at once (one hop to a thread on SQLite).
    claimed = await services.store.write_whole(work)
    async with services.store.read() as conn:
        events = {e.id: e for e in map(event_from_row, await conn.execute(sa.select(audit_events)))}
        rows = {r.id: r for r in await conn.execute(sa.select(deliveries))}

    assert len(claimed) == 2 * len(events) == 2 * len(tricky_events())
    assert {(c.destination_id, c.event.id) for c in claimed} == {
        (d, e) for d in (first.id, second.id) for e in events
    }
    for item in claimed:
        event = events[item.event.id]
        expected = event.stream_body()
        assert ordered(item.body) == ordered(expected), (item.body, expected)
        assert json.loads(item.body) == json.loads(expected)
        assert (item.event.event_type, item.event.entity_type) == (
            event.event_type,
            event.entity_type,
        )
        row = rows[item.delivery_id]
        assert (item.destination_id, item.attempts) == (row.destination_id, 1)
        assert item.created_at == as_utc(row.created_at)
        assert row.attempts == 1 and as_utc(row.lease_expires_at) > now
        assert item.probe is (item.destination_id == second.id)
        if services.store.is_sqlite:  # SQLite's JSON is compact, as orjson's
            assert item.body == expected


async def test_the_claim_leases_only_due_deliveries_of_active_destinations(
    services: Services,
) -> None:
    async with services.store.write() as conn:
        await event_service.record(conn, tricky_events()[:5])
    destination = await add_destination(services, "http://127.0.0.1:9/hook")
    inactive = await add_destination(services, "http://127.0.0.1:9/other", active=False)
    now = datetime.now(UTC)
    lease = now + timedelta(minutes=1)
    async with services.store.write() as conn:
        for target in (destination.id, inactive.id):
            route = Route(target, None, frozenset(), (), ())
            await delivery_ops.replay(conn, route, now - LONG_AGO, now, now)
        first = await claim(conn, {destination.id: 3, inactive.id: 10}, now, lease)
        rest = await claim(conn, {destination.id: 10}, now, lease)
        again = await claim(conn, {destination.id: 10}, now, lease)
        later = await claim(conn, {destination.id: 10}, lease + timedelta(seconds=1), lease)

    assert (len(first), len(rest), again) == (3, 2, [])
    assert {c.destination_id for c in first + rest} == {destination.id}
    assert {c.event.id for c in first}.isdisjoint(c.event.id for c in rest)
    assert len(later) == 5 and {c.attempts for c in later} == {2}  # the leases ran out
