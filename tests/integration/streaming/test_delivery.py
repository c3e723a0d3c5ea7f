"""Every event reaches every destination with GitLab's headers and a valid signature."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from standardwebhooks import Webhook

from auditwire.services.container import Services
from tests.integration.streaming.factories import (
    add_destination,
    add_group,
    add_header,
    group_event,
    record,
    user_event,
)
from tests.integration.streaming.receivers import Receiver, serve

EVENTS = 200


async def test_every_event_is_delivered_with_headers_and_a_valid_signature(
    services: Services, start_worker: Callable[..., Any]
) -> None:
    group = await add_group(services, "acme")
    async with serve(Receiver()) as receiver:
        destination = await add_destination(services, receiver.url, group_id=group)
        await add_header(services, destination.id, "X-Team", "security")
        await add_header(services, destination.id, "X-Disabled", "no", active=False)
        await start_worker()
        ids = await record(services, [group_event(group, "acme") for _ in range(EVENTS)])
        await receiver.wait_for(set(ids))

    assert set(receiver.delivered) == set(ids)
    verifier = Webhook(destination.signing_secret)
    for item in receiver.received:
        headers = item.headers
        assert headers["Content-Type"] == "application/json"
        assert headers["X-Gitlab-Event-Streaming-Token"] == destination.token
        assert headers["X-Gitlab-Audit-Event-Type"] == "group_updated"
        assert headers["X-Team"] == "security"
        assert "X-Disabled" not in headers
        assert headers["webhook-id"] == str(item.event_id)
        payload = verifier.verify(item.body, dict(headers))
        assert payload["id"] == item.event_id
        assert payload["entity_path"] == "acme"
        assert payload["event_type"] == "group_updated"
    print(f"delivered {len(receiver.delivered)} ids, {receiver.duplicates} duplicates")


async def test_a_custom_content_type_header_wins(
    services: Services, start_worker: Callable[..., Any]
) -> None:
    async with serve(Receiver()) as receiver:
        destination = await add_destination(services, receiver.url)
        await add_header(services, destination.id, "content-type", "application/x-audit")
        await start_worker()
        ids = await record(services, [user_event()])
        await receiver.wait_for(set(ids))
    assert receiver.received[0].headers.getall("Content-Type") == ["application/x-audit"]


async def test_instance_destinations_get_every_event_and_the_same_id(
    services: Services, start_worker: Callable[..., Any]
) -> None:
    group = await add_group(services, "acme")
    async with serve(Receiver()) as instance, serve(Receiver()) as grouped:
        await add_destination(services, instance.url)
        await add_destination(services, grouped.url, group_id=group)
        await start_worker()
        user_ids = await record(services, [user_event() for _ in range(5)])
        group_ids = await record(services, [group_event(group, "acme") for _ in range(5)])
        await instance.wait_for(set(user_ids + group_ids))
        await grouped.wait_for(set(group_ids))
    assert set(grouped.delivered) == set(group_ids)
    bodies = {r.event_id: orjson.loads(r.body) for r in instance.received}
    for item in grouped.received:
        assert orjson.loads(item.body) == bodies[item.event_id]
