"""Outcomes are settled in bulk: one attempt record per delivery attempt with its own
status, duration, error and outcome, and the attempt metrics counted once per attempt."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from aiohttp import web
from prometheus_client import REGISTRY

from auditwire.services.container import Services
from auditwire.store.schema import deliveries, delivery_attempts
from tests.integration.streaming.factories import add_destination, record, user_event
from tests.integration.streaming.receivers import Receiver, serve

EVENTS = 120


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _counts() -> dict[str, float]:
    return {
        "delivered": _sample(
            "auditwire_delivery_attempts_total", outcome="delivered", kind="instance"
        ),
        "retry": _sample("auditwire_delivery_attempts_total", outcome="retry", kind="instance"),
        "latency": _sample("auditwire_delivery_latency_seconds_count", kind="instance"),
        "requests": _sample("auditwire_delivery_requests_total", layout="event"),
    }


async def test_each_attempt_has_one_record_with_its_own_outcome_and_is_counted_once(
    services: Services, start_worker: Callable[..., Any]
) -> None:
    refused_once: set[int] = set()

    async def flaky(request: web.Request) -> web.StreamResponse:
        event_id = int((await request.json())["id"])
        if event_id % 3 == 0 and event_id not in refused_once:  # every third: 503 once
            refused_once.add(event_id)
            return web.Response(status=503, text="busy")
        return web.Response(status=201, text="ok")

    before = _counts()
    async with serve(Receiver(flaky)) as receiver:
        destination = await add_destination(services, receiver.url)
        ids = await record(services, [user_event(n) for n in range(EVENTS)])
        worker = await start_worker(delivery_retry_base=0.01, delivery_retry_max=0.05)
        await receiver.wait_for(set(ids))
        async with services.store.read() as conn:
            for _ in range(100):  # the last outcomes are written after the last answer
                left = (
                    await conn.execute(sa.select(sa.func.count()).select_from(deliveries))
                ).scalar_one()
                count = (
                    await conn.execute(sa.select(sa.func.count()).select_from(delivery_attempts))
                ).scalar_one()
                if left == 0 and count == EVENTS + len(refused_once):
                    break
                await conn.rollback()
                await asyncio.sleep(0.05)
            rows = (
                await conn.execute(sa.select(delivery_attempts).order_by(delivery_attempts.c.id))
            ).all()
        await worker.stop()  # every outcome settled and counted

    retried = {i for i in ids if i % 3 == 0}
    assert refused_once == retried and retried
    assert len(rows) == EVENTS + len(retried)
    assert {r.destination_id for r in rows} == {destination.id}
    by_outcome: dict[str, list[Any]] = {}
    for row in rows:
        by_outcome.setdefault(row.outcome, []).append(row)
    assert sorted(r.event_id for r in by_outcome["delivered"]) == sorted(ids)
    assert sorted(r.event_id for r in by_outcome["retry"]) == sorted(retried)
    for row in by_outcome["delivered"]:
        assert (row.status_code, row.error, row.event_type) == (201, None, "user_created")
        assert (row.event_count, row.last_event_id) == (1, None)
    for row in by_outcome["retry"]:
        assert (row.status_code, row.error, row.event_type) == (503, "HTTP 503", "user_created")
    assert all(0 <= r.duration_ms < 5000 for r in rows)
    # Stamped when each attempt ended, in the order they were written.
    stamps = [r.attempted_at for r in rows]
    assert stamps == sorted(stamps)
    first_retry = {r.event_id: r.attempted_at for r in by_outcome["retry"]}
    for row in by_outcome["delivered"]:
        if row.event_id in first_retry:
            assert row.attempted_at > first_retry[row.event_id]

    after = _counts()
    assert after["delivered"] - before["delivered"] == EVENTS
    assert after["retry"] - before["retry"] == len(retried)
    assert after["latency"] - before["latency"] == EVENTS
    assert after["requests"] - before["requests"] == EVENTS + len(retried)
