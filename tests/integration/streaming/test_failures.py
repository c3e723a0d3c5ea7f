"""Receivers that fail, hang or refuse: nothing is lost, and no destination holds back another."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from auditwire.domain.events import as_utc
from auditwire.services.container import Services
from tests.integration.streaming.factories import (
    add_destination,
    delivery_rows,
    destination_row,
    eventually,
    record,
    user_event,
)
from tests.integration.streaming.receivers import Receiver, serve
from tests.live import free_port

EVENTS = 100


def failing_first(count: int, status: int, headers: dict[str, str] | None = None) -> Any:
    """A behaviour that answers `status` to the first `count` requests, then 200."""
    seen = 0

    async def behaviour(_request: web.Request) -> web.StreamResponse:
        nonlocal seen
        seen += 1
        if seen <= count:
            return web.Response(status=status, headers=headers)
        return web.Response(status=200)

    return behaviour


@asynccontextmanager
async def blackhole() -> AsyncIterator[tuple[str, list[asyncio.StreamWriter]]]:
    """A port that accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/hook", held
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_a_receiver_refusing_connections_for_a_while_then_up_gets_everything(
    services: Services, start_worker: Callable[..., Any]
) -> None:
    port = free_port()
    await add_destination(services, f"http://127.0.0.1:{port}/hook")
    worker = await start_worker()
    ids = await record(services, [user_event() for _ in range(EVENTS)])

    async def refused_enough() -> bool:
        return worker.stats["retry"] >= 10

    await eventually(refused_enough)
    async with serve(Receiver(), port=port) as receiver:
        await receiver.wait_for(set(ids))
    assert set(receiver.delivered) == set(ids)
    print(f"refused {worker.stats['retry']} attempts; then {len(ids)} delivered")


async def test_503_for_a_while_then_200_gets_everything(
    services: Services, start_worker: Callable[..., Any]
) -> None:
    async with serve(Receiver(failing_first(30, 503))) as receiver:
        await add_destination(services, receiver.url)
        # The circuit opens after 5 failures; quick probes keep the test short.
        await start_worker(delivery_circuit_probe_base=0.05, delivery_circuit_probe_max=0.05)
        ids = await record(services, [user_event() for _ in range(EVENTS)])
        await receiver.wait_for(set(ids))

        async def settled() -> bool:
            return await delivery_rows(services) == []

        await eventually(settled)  # delivered outcomes are written in batches, just after
    assert set(receiver.delivered) == set(ids)
    assert receiver.requests >= EVENTS + 30


async def test_a_receiver_slower_than_the_timeout_is_retried_until_it_answers_in_time(
    services: Services, start_worker: Callable[..., Any]
) -> None:
    slow_answers = 5
    seen = 0

    async def slow_then_fast(_request: web.Request) -> web.StreamResponse:
        nonlocal seen
        seen += 1
        if seen <= slow_answers:
            await asyncio.sleep(2.0)  # four times the worker's timeout
        return web.Response(status=200)

    async with serve(Receiver(slow_then_fast)) as receiver:
        await add_destination(services, receiver.url)
        worker = await start_worker(delivery_timeout=0.5)
        ids = await record(services, [user_event() for _ in range(20)])
        await receiver.wait_for(set(ids))
    assert set(receiver.delivered) == set(ids)
    assert worker.stats["retry"] >= slow_answers


async def test_retry_after_in_seconds_sets_the_next_attempt(
    services: Services, start_worker: Callable[..., Any]
) -> None:
    async with serve(Receiver(failing_first(1, 429, {"Retry-After": "120"}))) as receiver:
        await add_destination(services, receiver.url)
        await start_worker(delivery_retry_max=3600.0)
        before = datetime.now(UTC)
        await record(services, [user_event()])

        async def rescheduled() -> bool:
            rows = await delivery_rows(services)
            return bool(rows) and rows[0].last_error is not None

        await eventually(rescheduled)
        row = (await delivery_rows(services))[0]
        assert receiver.requests == 1
    wait = as_utc(row.next_attempt_at) - before
    assert timedelta(seconds=119) <= wait <= timedelta(seconds=125)
    assert row.last_error == "HTTP 429"


async def test_retry_after_as_an_http_date_is_honoured_then_delivered(
    services: Services, start_worker: Callable[..., Any]
) -> None:
    moment = datetime.now(UTC) + timedelta(seconds=2)
    http_date = moment.strftime("%a, %d %b %Y %H:%M:%S GMT")
    async with serve(Receiver(failing_first(1, 503, {"Retry-After": http_date}))) as receiver:
        await add_destination(services, receiver.url)
        await start_worker(delivery_retry_max=60.0)
        ids = await record(services, [user_event()])
        await receiver.wait_for(set(ids))
    assert receiver.requests == 2
    delivered_at = datetime.now(UTC)
    assert delivered_at >= moment - timedelta(seconds=1)  # HTTP-dates have whole seconds


async def test_a_dead_destination_does_not_hold_back_a_healthy_one(
    services: Services, start_worker: Callable[..., Any]
) -> None:
    async with blackhole() as (dead_url, held), serve(Receiver()) as healthy:
        dead = await add_destination(services, dead_url)
        await add_destination(services, healthy.url)
        # The dead one's requests hang for the whole test: they never time out meanwhile.
        await start_worker(delivery_timeout=60.0, delivery_concurrency=32)
        ids = await record(services, [user_event() for _ in range(300)])
        await healthy.wait_for(set(ids))
        assert set(healthy.delivered) == set(ids)
        assert 0 < len(held) <= 16  # the dead one used its own budget, no more
        pending = await delivery_rows(services)
    waiting = [row for row in pending if row.destination_id == dead.id]
    assert len(waiting) == len(ids)  # every event still waits for the dead destination


async def test_a_destination_closes_its_circuit_after_failures_and_drains_on_success(
    services: Services, start_worker: Callable[..., Any]
) -> None:
    async with serve(Receiver(failing_first(12, 500))) as receiver:
        destination = await add_destination(services, receiver.url)
        await start_worker(delivery_concurrency_per_destination=1)
        ids = await record(services, [user_event() for _ in range(40)])

        async def opened() -> bool:
            return (await destination_row(services, destination.id)).circuit_state == "open"

        await eventually(opened)
        await receiver.wait_for(set(ids))
        row = await destination_row(services, destination.id)
    assert row.circuit_state == "closed"
    assert row.consecutive_failures == 0
    assert row.last_success_at is not None
    assert row.last_error == "HTTP 500"
    assert set(receiver.delivered) == set(ids)


async def test_deliveries_older_than_the_maximum_age_are_marked_failed_and_kept(
    services: Services, start_worker: Callable[..., Any]
) -> None:
    async with serve(Receiver(failing_first(1000, 503))) as receiver:
        await add_destination(services, receiver.url)
        await start_worker(delivery_max_age=0.3)
        await record(services, [user_event() for _ in range(3)])

        async def all_failed() -> bool:
            rows = await delivery_rows(services)
            return len(rows) == 3 and all(r.state == "failed" for r in rows)

        await eventually(all_failed)
        requests = receiver.requests
        assert receiver.delivered == {}
    assert requests >= 3
    assert {r.last_error for r in await delivery_rows(services)} == {"HTTP 503"}
