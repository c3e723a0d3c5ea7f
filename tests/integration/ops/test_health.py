"""A destination's health and delivery log as its owner sees them in GraphQL, driven by real
receivers on loopback that fail, hang and recover."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from auditwire.domain.delivery_log import AttemptOutcome, AttemptRecord
from auditwire.domain.events import utcnow
from auditwire.domain.owner import OwnerKind
from auditwire.services.container import Services
from auditwire.store.attempts import insert_attempts
from tests.integration.ops.conftest import DestinationView, Owned
from tests.integration.streaming.factories import eventually, group_event, record
from tests.integration.streaming.receivers import Receiver, serve


class Gated:
    """Answers the first request 500 at once, holds the others until opened, then answers
    them with `status` (changeable)."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.status = 500
        self.seen = 0

    async def __call__(self, _request: web.Request) -> web.StreamResponse:
        self.seen += 1
        if self.seen > 1:
            await self.open.wait()
        return web.Response(status=self.status if self.seen > 1 else 500)


async def test_a_failing_destination_shows_failing_then_circuit_open_then_recovers(
    services: Services, owned: Owned, start_worker: Any, destination_view: DestinationView
) -> None:
    gate = Gated()
    async with serve(Receiver(gate)) as receiver:
        await services.destinations.create_group_destination(
            owned.actor, group_path="acme", destination_url=receiver.url, name="siem"
        )
        [event_id] = await record(services, [group_event(owned.group.id, "acme")])
        view = await destination_view()
        assert view["health"] == {
            "state": "HEALTHY",
            "pendingCount": 2,  # the destination's own creation event, and ours
            "failedCount": 0,
            "lastSuccessAt": None,
            "lastFailureAt": None,
            "lastError": None,
            "consecutiveFailures": 0,
        }
        await start_worker(delivery_timeout=10.0, delivery_circuit_failures=3)

        async def state_is(state: str) -> bool:
            return bool((await destination_view())["health"]["state"] == state)

        await eventually(lambda: state_is("FAILING"))
        failing = (await destination_view())["health"]
        assert failing["consecutiveFailures"] == 1
        assert failing["pendingCount"] == 2
        assert failing["lastError"] == "HTTP 500"
        assert failing["lastFailureAt"] is not None

        gate.open.set()
        await eventually(lambda: state_is("CIRCUIT_OPEN"))
        view = await destination_view()
        assert view["health"]["consecutiveFailures"] >= 3
        assert view["health"]["pendingCount"] == 2
        assert view["health"]["failedCount"] == 0
        assert view["health"]["lastError"] == "HTTP 500"
        assert view["health"]["lastSuccessAt"] is None
        attempts = view["deliveries"]["nodes"]
        assert len(attempts) >= 3
        assert all(a["outcome"] == "RETRY" and a["statusCode"] == 500 for a in attempts)
        assert all(a["error"] == "HTTP 500" and a["durationMs"] >= 0 for a in attempts)
        times = [a["attemptedAt"] for a in attempts]
        assert times == sorted(times, reverse=True)  # newest first
        assert str(event_id) in {a["eventId"] for a in attempts}

        gate.status = 200  # the receiver is back: the next probe closes the circuit
        await receiver.wait_for({event_id})
        await eventually(lambda: state_is("HEALTHY"))
        view = await destination_view(outcome="DELIVERED")
        assert view["health"]["consecutiveFailures"] == 0
        assert view["health"]["lastSuccessAt"] is not None
        delivered = view["deliveries"]["nodes"]
        assert str(event_id) in {a["eventId"] for a in delivered}
        assert all(a["outcome"] == "DELIVERED" and a["error"] is None for a in delivered)
        assert [a["eventType"] for a in delivered if a["eventId"] == str(event_id)] == [
            "group_updated"
        ]
        await eventually(lambda: _pending_is(destination_view, 0))


async def _pending_is(view: DestinationView, count: int) -> bool:
    return bool((await view())["health"]["pendingCount"] == count)


async def test_the_delivery_log_pages_newest_first_and_filters_by_outcome(
    services: Services, owned: Owned, destination_view: DestinationView
) -> None:
    destination = await services.destinations.create_group_destination(
        owned.actor, group_path="acme", destination_url="http://127.0.0.1:9/hook", name="siem"
    )
    now = utcnow()
    outcomes = [AttemptOutcome.RETRY, AttemptOutcome.DELIVERED] * 3
    async with services.store.write() as conn:
        await insert_attempts(
            conn,
            [
                AttemptRecord(destination.id, 100 + i, "group_updated", now, 5, outcome, 200)
                for i, outcome in enumerate(outcomes)
            ],
        )
    first = (await destination_view(first=4))["deliveries"]
    assert [n["eventId"] for n in first["nodes"]] == ["105", "104", "103", "102"]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = (await destination_view(first=4, after=first["pageInfo"]["endCursor"]))["deliveries"]
    assert [n["eventId"] for n in rest["nodes"]] == ["101", "100"]
    assert rest["pageInfo"]["hasNextPage"] is False
    retries = (await destination_view(outcome="RETRY"))["deliveries"]["nodes"]
    assert [n["eventId"] for n in retries] == ["104", "102", "100"]
    assert {n["outcome"] for n in retries} == {"RETRY"}


async def test_a_deactivated_destination_is_inactive_and_keeps_its_backlog(
    services: Services, owned: Owned, destination_view: DestinationView
) -> None:
    destination = await services.destinations.create_group_destination(
        owned.actor, group_path="acme", destination_url="http://127.0.0.1:9/hook", name="siem"
    )
    await record(services, [group_event(owned.group.id, "acme")])
    await services.destinations.update_destination(
        owned.actor, destination.id, kind=OwnerKind.GROUP, active=False
    )
    health = (await destination_view())["health"]
    assert health["state"] == "INACTIVE"
    assert health["pendingCount"] == 2  # its creation event and ours wait for reactivation
