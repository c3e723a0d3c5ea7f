"""Getting events back: replaying a window after an outage, and retrying failed deliveries."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from auditwire.domain.events import utcnow
from auditwire.domain.owner import OwnerKind
from auditwire.services import delivery as delivery_service
from auditwire.services.container import Services
from auditwire.store.schema import audit_events, deliveries
from tests.integration.graphql.conftest import RunGraphQL, destination_gid
from tests.integration.ops.conftest import DestinationView, Owned
from tests.integration.streaming.factories import (
    add_group,
    eventually,
    group_event,
    project_event,
    record,
)
from tests.integration.streaming.receivers import Receiver, serve
from tests.integration.streaming.test_failures import failing_first

REPLAY = """
mutation($id: AuditEventsStreamingDestinationID!, $after: Time!, $before: Time!) {
  auditEventsStreamingDestinationReplay(
    input: {destinationId: $id, createdAfter: $after, createdBefore: $before,
            clientMutationId: "r"}
  ) { clientMutationId errors queuedCount }
}
"""
RETRY_FAILED = """
mutation($id: AuditEventsStreamingDestinationID!) {
  auditEventsStreamingDestinationRetryFailed(input: {destinationId: $id}) { errors queuedCount }
}
"""
WANTED = "outage_event"


def iso(moment: datetime) -> str:
    return moment.isoformat()


async def _events_of_type(services: Services, event_type: str) -> list[dict[str, Any]]:
    async with services.store.read() as conn:
        rows = await conn.execute(
            sa.select(audit_events.c.details).where(audit_events.c.event_type == event_type)
        )
        return [dict(r.details) for r in rows]


async def _outbox_empty(services: Services) -> bool:
    async with services.store.read() as conn:
        count = await conn.execute(sa.select(sa.func.count()).select_from(deliveries))
        return bool(count.scalar_one() == 0)


async def test_a_replay_after_an_outage_redelivers_exactly_the_window_once(
    graphql: RunGraphQL, services: Services, owned: Owned, start_worker: Any
) -> None:
    now = utcnow()
    other_root = await add_group(services, "elsewhere")
    project = await services.namespaces.create_project(
        owned.actor, namespace_ref="acme", path="app", name="App"
    )

    def at(event: Any, hours: float) -> Any:
        return replace(event, created_at=now - timedelta(hours=hours))

    async with serve(Receiver()) as receiver:
        destination = await services.destinations.create_group_destination(
            owned.actor, group_path="acme", destination_url=receiver.url, name="siem"
        )
        await services.destinations.add_event_types(
            owned.actor, destination.id, [WANTED], kind=OwnerKind.GROUP
        )
        before_window = await record(services, [at(group_event(owned.group.id, "acme", WANTED), 5)])
        in_window = await record(
            services,
            [
                at(group_event(owned.group.id, "acme", WANTED), 3),
                at(project_event(project.id, "acme/app", owned.group.id, WANTED), 2.5),
                at(group_event(owned.group.id, "acme", WANTED), 2),
            ],
        )
        await record(
            services,
            [
                at(group_event(owned.group.id, "acme", "other_type"), 2.5),  # filtered out
                at(group_event(other_root, "elsewhere", WANTED), 2.5),  # another group's
            ],
        )
        after_window = await record(services, [at(group_event(owned.group.id, "acme", WANTED), 1)])
        worker = await start_worker()
        originals = set(before_window + in_window + after_window)
        await receiver.wait_for(originals)
        await eventually(lambda: _outbox_empty(services))  # the creation event's too
        await worker.stop()
        assert originals <= set(receiver.delivered)  # then the receiver lost them: an outage

        receiver.delivered.clear()
        variables = {
            "id": destination_gid(destination.id),
            "after": iso(now - timedelta(hours=3, seconds=1)),
            "before": iso(now - timedelta(hours=1, minutes=30)),
        }
        first = await graphql(REPLAY, variables, as_=owned.owner)
        assert first["data"]["auditEventsStreamingDestinationReplay"] == {
            "clientMutationId": "r",
            "errors": [],
            "queuedCount": 3,
        }
        double_click = await graphql(REPLAY, variables, as_=owned.owner)
        assert double_click["data"]["auditEventsStreamingDestinationReplay"]["queuedCount"] == 0

        await start_worker()
        await receiver.wait_for(set(in_window))
        await eventually(lambda: _outbox_empty(services))
    assert dict(receiver.delivered) == {event_id: 1 for event_id in in_window}
    audited = await _events_of_type(services, "streaming_destination_replay")
    assert [d["queued"] for d in audited] == [3, 0]
    assert audited[0]["author_name"] == owned.owner.user.name


async def test_replay_refuses_bad_windows_with_clear_errors_and_queues_nothing(
    graphql: RunGraphQL,
    services: Services,
    owned: Owned,
    destination_view: DestinationView,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    destination = await services.destinations.create_group_destination(
        owned.actor, group_path="acme", destination_url="http://127.0.0.1:9/hook", name="siem"
    )
    now = utcnow()
    await record(services, [group_event(owned.group.id, "acme")] * 3)
    pending = (await destination_view())["health"]["pendingCount"]
    target = destination_gid(destination.id)

    async def replay(after: str, before: str) -> dict[str, Any]:
        body = await graphql(
            REPLAY, {"id": target, "after": after, "before": before}, as_=owned.owner
        )
        return dict(body)

    too_long = await replay(iso(now - timedelta(days=31)), iso(now))
    assert too_long["data"]["auditEventsStreamingDestinationReplay"]["errors"] == [
        "The replay window must not be longer than 30 days"
    ]
    backwards = await replay(iso(now), iso(now - timedelta(hours=1)))
    assert backwards["data"]["auditEventsStreamingDestinationReplay"]["errors"] == [
        "createdAfter must be earlier than createdBefore"
    ]
    garbage = await replay("yesterday", iso(now))
    assert "yesterday" in garbage["errors"][0]["message"]
    assert garbage["data"] is None

    # The event bound, lowered so that a handful of events cross it.
    monkeypatch.setattr(delivery_service, "MAX_REPLAY_EVENTS", 2)
    async with services.store.write() as conn:  # delivered, so that a replay would queue them
        await conn.execute(deliveries.delete())
    too_many = await replay(iso(now - timedelta(minutes=5)), iso(now + timedelta(minutes=5)))
    payload = too_many["data"]["auditEventsStreamingDestinationReplay"]
    assert payload["errors"] == [
        "The replay window holds more than 1000000 events to queue; replay a shorter window"
    ]
    assert payload["queuedCount"] is None
    assert pending >= 3
    assert (await destination_view())["health"]["pendingCount"] == 0
    assert await _events_of_type(services, "streaming_destination_replay") == []


async def test_retry_failed_requeues_the_deliveries_that_failed_for_good(
    graphql: RunGraphQL,
    services: Services,
    owned: Owned,
    start_worker: Any,
    destination_view: DestinationView,
) -> None:
    async with serve(Receiver(failing_first(10_000, 503))) as receiver:
        destination = await services.destinations.create_group_destination(
            owned.actor, group_path="acme", destination_url=receiver.url, name="siem"
        )
        await services.destinations.add_event_types(
            owned.actor, destination.id, [WANTED], kind=OwnerKind.GROUP
        )
        async with services.store.write() as conn:  # the creation event's, sent before filters
            await conn.execute(deliveries.delete())
        ids = await record(services, [group_event(owned.group.id, "acme", WANTED)] * 2)
        worker = await start_worker(delivery_max_age=0.001)  # the first failure is final

        async def failed_count_is(count: int) -> bool:
            return bool((await destination_view())["health"]["failedCount"] == count)

        await eventually(lambda: failed_count_is(2))
        await worker.stop()
        view = await destination_view(outcome="FAILED")
        assert {n["eventId"] for n in view["deliveries"]["nodes"]} == {str(i) for i in ids}
        assert view["health"]["pendingCount"] == 0

        receiver.behaviour = failing_first(0, 200)
        body = await graphql(RETRY_FAILED, {"id": destination_gid(destination.id)}, as_=owned.owner)
        assert body["data"]["auditEventsStreamingDestinationRetryFailed"] == {
            "errors": [],
            "queuedCount": 2,
        }
        health = (await destination_view())["health"]
        assert (health["failedCount"], health["pendingCount"]) == (0, 2)
        await start_worker()  # with the normal maximum age again
        await receiver.wait_for(set(ids))
    await eventually(lambda: failed_count_is(0))
    assert [
        d["queued"] for d in await _events_of_type(services, "streaming_destination_retry_failed")
    ] == [2]
