"""The batch claim's stream bodies, rendered by the database, are the JSON that
`AuditEvent.stream_body()` renders in Python: the same keys in the same order with the same
values, for events built to trip an encoder."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from auditwire.domain.events import Author, EntityType, NewAuditEvent, Target, as_utc, epoch_ms
from auditwire.domain.routing import Route
from auditwire.services import events as event_service
from auditwire.services.container import Services
from auditwire.store import deliveries as deliveries_store
from auditwire.store import delivery_ops
from auditwire.store.batch_claims import claim_batch
from auditwire.store.events import event_from_row
from auditwire.store.schema import audit_events, deliveries
from tests.integration.streaming.factories import add_destination

AWKWARD = 'quote " backslash \\ slash / newline \n tab \t bell \x07 del \x7f nbsp \u00a0'
UNICODE = "Zoë 日本語 🚀 \u2028 \u2029 \ufeff </script>"
MOMENTS = [
    datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC),  # truncated, not rounded up
    datetime(2025, 3, 14, 9, 26, 53, 589000, tzinfo=UTC),
    datetime(2025, 1, 1, 0, 0, 0, tzinfo=UTC),  # no fraction at all
    datetime(2025, 6, 1, 5, 30, 0, 1, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    datetime(1999, 12, 31, 23, 59, 59, 500, tzinfo=UTC),
]


def tricky_events() -> list[NewAuditEvent]:
    nested = {
        "custom_message": AWKWARD,
        "nested": {"list": [1, -2, 2.5, 0.1, 1e-7, 1e21, None, True, False, "", [], {}]},
        "big": 2**53 + 1,
        "negative": -(2**62),
        "unicode": {UNICODE: UNICODE},
        "zero": 0.0,
        "order": {"z": 1, "a": 2, "m": {"y": 1, "b": 2}},
    }
    targets = [
        Target(42, "Project", UNICODE),
        Target("007", "User", None),  # digits: streamed as the number 7
        Target("-3", None, AWKWARD),
        Target("abc-12", "Runner", "r"),
        Target("1.5", "Thing", "not an integer"),
        Target("--5", "Thing", "two signs: text"),
        Target("1" * 30, "Thing", "beyond 64 bits: text"),
        Target("-123456789012345678", "Thing", "18 digits: a number"),
        None,
    ]
    return [
        NewAuditEvent(
            event_type=f"event_{n}",
            author=Author(id=n + 1, name=UNICODE if n % 2 else AWKWARD),
            entity_type=EntityType.GROUP if n % 2 else EntityType.USER,
            entity_id=1000 + n,
            entity_path=f"grüppe/{UNICODE}/{n}",
            target=target,
            ip_address=None if n % 3 == 0 else "2001:db8::1",
            custom_message=AWKWARD if n % 2 else None,
            details=nested if n % 2 else {},
            created_at=moment,
            root_group_id=None,
        )
        for n, (target, moment) in enumerate(zip(targets * 2, MOMENTS * 3, strict=False))
    ] + [
        NewAuditEvent(
            event_type="timestamp",
            author=Author(id=1, name="a"),
            entity_type=EntityType.USER,
            entity_id=1,
            entity_path="u",
            created_at=moment,
        )
        for moment in MOMENTS
    ]


def ordered(body: bytes) -> Any:
    """The JSON value with every object as its list of pairs: equal only in the same order."""
    return json.loads(body, object_pairs_hook=list)


async def queued(services: Services, count: int, *urls: str) -> tuple[list[int], datetime]:
    """`count` tricky events recorded, then replayed to a new destination per URL (the last
    one inactive when its URL ends with "/inactive"); their ids and the replay's moment."""
    async with services.store.write() as conn:
        await event_service.record(conn, tricky_events()[:count])
    targets = [
        (await add_destination(services, url, active=not url.endswith("/inactive"))).id
        for url in urls
    ]
    now = datetime.now(UTC)
    async with services.store.write() as conn:
        for target in targets:
            route = Route(target, None, frozenset(), (), ())
            await delivery_ops.replay(conn, route, now - timedelta(days=365 * 30), now, now)
    return targets, now


async def test_rendered_bodies_are_the_stream_bodies_json(services: Services) -> None:
    recorded_from = datetime.now(UTC) - timedelta(days=365 * 30)
    async with services.store.write() as conn:
        await event_service.record(conn, tricky_events())
    destination = await add_destination(services, "http://127.0.0.1:9/hook")
    now = datetime.now(UTC)
    async with services.store.write() as conn:
        route = Route(destination.id, None, frozenset(), (), ())
        queued = await delivery_ops.replay(conn, route, recorded_from, now, now)
        leased = await claim_batch(conn, destination.id, 1000, now, now + timedelta(minutes=1))
    async with services.store.read() as conn:
        events = {e.id: e for e in map(event_from_row, await conn.execute(sa.select(audit_events)))}
        rows = {r.id: r for r in await conn.execute(sa.select(deliveries))}

    assert len(leased) == queued == len(events) == len(tricky_events())
    for item in leased:
        event = events[item.event_id]
        expected = event.stream_body()
        assert ordered(item.body) == ordered(expected), (item.body, expected)
        assert json.loads(item.body) == json.loads(expected)
        assert (item.event_type, item.time_ms) == (event.event_type, epoch_ms(event.created_at))
        row = rows[item.delivery_id]
        assert (item.attempts, item.created_at) == (row.attempts, as_utc(row.created_at))
        if services.store.is_sqlite:  # SQLite's JSON is compact, as orjson's
            assert item.body == expected
    assert {json.loads(i.body)["created_at"] for i in leased} >= {
        "2024-02-29T23:59:59.999Z",
        "2025-01-01T00:00:00.000Z",
        "2025-06-01T00:00:00.000Z",
        "1999-12-31T23:59:59.000Z",
    }


async def test_a_claim_leases_only_due_deliveries_of_an_active_destination(
    services: Services,
) -> None:
    (destination, inactive), now = await queued(
        services, 5, "http://127.0.0.1:9/hook", "http://127.0.0.1:9/inactive"
    )
    lease = now + timedelta(minutes=1)
    async with services.store.write() as conn:
        first = await claim_batch(conn, destination, 3, now, lease)
        rest = await claim_batch(conn, destination, 10, now, lease)
        again = await claim_batch(conn, destination, 10, now, lease)
        none = await claim_batch(conn, inactive, 10, now, lease)

    assert (len(first), len(rest), again, none) == (3, 2, [], [])
    assert {i.event_id for i in first}.isdisjoint(i.event_id for i in rest)
    assert {i.attempts for i in first + rest} == {1}


async def test_a_lease_holds_until_it_expires_in_both_claims_and_leaves_the_row_in_place(
    services: Services,
) -> None:
    (batched, per_event), now = await queued(
        services, 6, "http://127.0.0.1:9/batched", "http://127.0.0.1:9/per-event"
    )
    lease = now + timedelta(minutes=1)
    async with services.store.read() as conn:
        due_at = {
            r.id: as_utc(r.next_attempt_at) for r in await conn.execute(sa.select(deliveries))
        }

    async def both(at: datetime) -> tuple[list[int], list[int]]:
        async with services.store.write() as conn:
            leased = await claim_batch(conn, batched, 10, at, at + timedelta(minutes=1))
            claimed = await deliveries_store.claim(
                conn, {per_event: 10}, at, at + timedelta(minutes=1)
            )
        return sorted(i.delivery_id for i in leased), sorted(c.delivery_id for c in claimed)

    first = await both(now)
    assert len(first[0]) == len(first[1]) == 6
    assert await both(now + timedelta(seconds=30)) == ([], [])  # leased: not due
    async with services.store.read() as conn:
        rows = {r.id: r for r in await conn.execute(sa.select(deliveries))}
    # The lease is lease_expires_at alone: next_attempt_at, in the claim index, is unchanged.
    assert {i: as_utc(r.next_attempt_at) for i, r in rows.items()} == due_at
    assert {as_utc(r.lease_expires_at) for r in rows.values()} == {lease}
    again = await both(lease + timedelta(seconds=1))  # the worker died: due again
    assert again == first
    async with services.store.read() as conn:
        attempts = {r.attempts for r in await conn.execute(sa.select(deliveries))}
    assert attempts == {2}


async def test_on_postgresql_a_lease_is_a_heap_only_update(services: Services) -> None:
    if services.store.is_sqlite:
        return  # HOT updates are PostgreSQL's
    (destination,), now = await queued(services, 8, "http://127.0.0.1:9/hook")
    async with services.store.write() as conn:
        leased = await claim_batch(conn, destination, 10, now, now + timedelta(minutes=1))
        counts = (
            await conn.execute(
                sa.text(
                    "SELECT pg_stat_get_xact_tuples_updated(c.oid),"
                    " pg_stat_get_xact_tuples_hot_updated(c.oid), c.reloptions"
                    " FROM pg_class c WHERE c.relname = 'deliveries'"
                )
            )
        ).one()
    assert len(leased) == 8
    assert tuple(counts) == (8, 8, ["fillfactor=50"])
