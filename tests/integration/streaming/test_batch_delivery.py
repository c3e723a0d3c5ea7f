"""Batched destinations through the real worker, store and loopback receivers that behave
like Splunk's HEC and Datadog's intake: every event arrives once per successful batch, the
bad event of a batch fails alone with its reason, an outage drains once it ends, and the
delivery log records one attempt per batch."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp import web
from standardwebhooks.webhooks import Webhook

from auditwire.domain.owner import Owner, OwnerKind
from auditwire.domain.signing import new_signing_secret
from auditwire.errors import InvalidInput
from auditwire.services.container import Services
from auditwire.services.context import Actor
from auditwire.store import attempts as attempts_store
from auditwire.store import destinations as dest_store
from auditwire.store.schema import deliveries
from auditwire.streaming import worker as worker_module
from tests.conftest import MakeAccount
from tests.integration.streaming.factories import eventually, record, user_event
from tests.integration.streaming.sinks.receivers import (
    Hec,
    Intake,
    serve,
    serve_hec,
    serve_intake,
)

EVENTS = 30


async def add_batched(services: Services, category: str, config: dict[str, Any], token: str) -> int:
    async with services.store.write() as conn:
        return await dest_store.insert_destination(
            conn,
            services.box,
            owner=Owner.instance(),
            category=category,
            name=f"Batched_{secrets.token_hex(6)}",
            config=config,
            secret_token=token,
            signing_secret=new_signing_secret(),
            now=datetime.now(UTC),
        )


async def states(services: Services) -> dict[str, int]:
    async with services.store.read() as conn:
        query = sa.select(deliveries.c.state, sa.func.count()).group_by(deliveries.c.state)
        return {state: n for state, n in await conn.execute(query)}


async def drained(services: Services) -> bool:
    """Nothing left in the outbox."""
    return await states(services) == {}


async def test_every_event_reaches_hec_once_in_batches_and_the_log_has_one_attempt_each(
    services: Services, start_worker: Callable[..., Any]
) -> None:
    async with serve_hec(Hec(token="hec-token")) as hec:
        config = {"url": hec.url, "index": "audit", "batch": {"maxEvents": 10, "maxWaitMs": 50}}
        destination = await add_batched(services, "splunk", config, "hec-token")
        ids = await record(services, [user_event(n) for n in range(EVENTS)])
        await start_worker()

        await eventually(lambda: drained(services))
    assert sorted(e["event"]["id"] for e in hec.envelopes) == sorted(ids)
    assert {e["index"] for e in hec.envelopes} == {"audit"}
    assert hec.requests <= EVENTS // 10 + 1  # batches, not one request per event
    async with services.store.read() as conn:
        log = await attempts_store.list_attempts(conn, destination, limit=100)
    assert sum(a.event_count for a in log) == EVENTS
    assert all(a.outcome.value == "delivered" and a.status_code == 200 for a in log)
    assert all(a.last_event_id is not None and a.last_event_id >= a.event_id for a in log)


async def test_the_bad_event_of_a_batch_fails_with_its_reason_and_the_rest_arrive(
    services: Services, start_worker: Callable[..., Any]
) -> None:
    async with serve_hec(Hec(token="hec-token")) as hec:
        await add_batched(services, "splunk", {"url": hec.url}, "hec-token")
        ids = await record(services, [user_event(n) for n in range(EVENTS)])
        hec.bad_ids = {ids[7]}
        await start_worker()

        async def settled() -> bool:
            return await states(services) == {"failed": 1}

        await eventually(settled)
    assert sorted(e["event"]["id"] for e in hec.envelopes) == sorted(set(ids) - {ids[7]})
    async with services.store.read() as conn:
        (row,) = await conn.execute(sa.select(deliveries))
    assert row.event_id == ids[7]
    assert "Invalid data format" in row.last_error


async def test_a_datadog_outage_drains_once_it_ends(
    services: Services, start_worker: Callable[..., Any]
) -> None:
    down = {"on": True}

    async def outage(_request: web.Request) -> web.Response | None:
        return web.json_response({"errors": ["busy"]}, status=503) if down["on"] else None

    async with serve_intake(Intake(api_key="dd-key", on_post=outage)) as intake:
        await add_batched(services, "datadog", {"url": intake.url, "service": "gitlab"}, "dd-key")
        ids = await record(services, [user_event(n) for n in range(EVENTS)])
        await start_worker()

        async def retried() -> bool:
            return intake.requests >= 2

        await eventually(retried)
        assert intake.logs == []
        down["on"] = False

        await eventually(lambda: drained(services))
    assert sorted(json.loads(log["message"])["id"] for log in intake.logs) == sorted(ids)
    assert {log["service"] for log in intake.logs} == {"gitlab"}


async def test_a_hec_outage_drains_once_it_ends(
    services: Services, start_worker: Callable[..., Any]
) -> None:
    down = {"on": True}

    async def busy(_request: web.Request) -> web.Response | None:
        if down["on"]:
            return web.json_response({"text": "Server is busy", "code": 9}, status=503)
        return None

    async with serve_hec(Hec(token="hec-token", on_event=busy)) as hec:
        await add_batched(services, "splunk", {"url": hec.url}, "hec-token")
        ids = await record(services, [user_event(n) for n in range(EVENTS)])
        await start_worker()

        async def retried() -> bool:
            return hec.requests >= 2

        await eventually(retried)
        down["on"] = False

        await eventually(lambda: drained(services))
    assert sorted(e["event"]["id"] for e in hec.envelopes) == sorted(ids)


async def test_the_services_take_splunk_and_datadog_with_their_rules_and_the_test_event(
    services: Services, make_account: MakeAccount
) -> None:
    admin = Actor((await make_account("root", admin=True)).user)
    async with serve_hec(Hec(token="hec-token")) as hec:
        created = await services.destinations.create(
            admin,
            Owner.instance(),
            category="splunk",
            config={"url": hec.url, "batch": {"maxEvents": 500}},
            secret_token="hec-token",
        )
        tested = await services.delivery.send_test(admin, created.id, kind=OwnerKind.INSTANCE)
    assert (tested.status_code, tested.error) == (200, None)
    assert [e["event"]["id"] for e in hec.envelopes] == [tested.event_id]
    datadog = await services.destinations.create(
        admin,
        Owner.instance(),
        category="datadog",
        config={"site": "datadoghq.eu"},
        secret_token="dd-key",
    )
    assert datadog.category == "datadog"
    with pytest.raises(InvalidInput, match="maxEvents must be less than or equal to 1000"):
        await services.destinations.create(
            admin,
            Owner.instance(),
            category="splunk",
            config={"url": "https://splunk.example:8088", "batch": {"maxEvents": 2000}},
            secret_token="hec-token",
        )
    with pytest.raises(InvalidInput, match="Secret token must not contain spaces"):
        await services.destinations.create(
            admin,
            Owner.instance(),
            category="datadog",
            config={"site": "datadoghq.com"},
            secret_token="dd key",
        )
    for n in range(4):  # five active per category per owner, as for every kind
        await services.destinations.create(
            admin,
            Owner.instance(),
            category="datadog",
            config={"site": "datadoghq.com", "service": f"s{n}"},
            secret_token="dd-key",
        )
    with pytest.raises(InvalidInput):
        await services.destinations.create(
            admin,
            Owner.instance(),
            category="datadog",
            config={"site": "datadoghq.com", "service": "sixth"},
            secret_token="dd-key",
        )


async def test_a_batched_http_destination_gets_signed_json_arrays_with_its_token(
    services: Services, start_worker: Callable[..., Any]
) -> None:
    posts: list[tuple[bytes, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        posts.append((await request.read(), request.headers))
        return web.Response(status=200)

    async with serve([("/hook", hook)]) as base:
        config = {"url": f"{base}/hook", "format": "json_array", "batch": {"maxEvents": 10}}
        signing_secret = new_signing_secret()
        async with services.store.write() as conn:
            await dest_store.insert_destination(
                conn,
                services.box,
                owner=Owner.instance(),
                category="http",
                name="Batched_http",
                config=config,
                secret_token="t" * 24,
                signing_secret=signing_secret,
                now=datetime.now(UTC),
            )
        ids = await record(services, [user_event(n) for n in range(EVENTS)])
        await start_worker()

        await eventually(lambda: drained(services))
    arrived = []
    for body, headers in posts:
        Webhook(signing_secret).verify(body, dict(headers))  # signed over the whole array
        assert headers["X-Gitlab-Event-Streaming-Token"] == "t" * 24
        assert headers["Content-Type"] == "application/json"
        arrived.extend(event["id"] for event in json.loads(body))
    assert sorted(arrived) == sorted(ids)
    assert len(posts) <= EVENTS // 10 + 1


@pytest.mark.parametrize(
    "batch",
    [{"maxWaitMs": 50}, {"maxEvents": 1}],
    ids=["sent when its wait is over", "sent when claimed, as a full batch"],
)
async def test_a_header_added_to_a_batched_http_destination_goes_with_the_event_saying_so(
    services: Services,
    start_worker: Callable[..., Any],
    make_account: MakeAccount,
    monkeypatch: pytest.MonkeyPatch,
    batch: dict[str, int],
) -> None:
    monkeypatch.setattr(worker_module, "REFRESH_INTERVAL", 3600.0)  # no periodic re-read
    admin = Actor((await make_account("root", admin=True)).user)
    posts: list[tuple[list[dict[str, Any]], Any]] = []

    async def hook(request: web.Request) -> web.Response:
        posts.append((json.loads(await request.read()), request.headers))
        return web.Response(status=200)

    async with serve([("/hook", hook)]) as base:
        config = {"url": f"{base}/hook", "format": "json_array", "batch": batch}
        destination_id = await add_batched(services, "http", config, "t" * 24)
        await start_worker()
        await record(services, [user_event()])
        await eventually(lambda: drained(services))  # loaded, used, and sent without it
        await services.destinations.create_header(
            admin, destination_id, kind=OwnerKind.INSTANCE, key="X-Team", value="blue"
        )
        await eventually(lambda: drained(services))
    (before, first_headers), (after, later_headers) = posts
    assert [e["event_type"] for e in after] == ["audit_events_streaming_instance_headers_create"]
    assert "X-Team" not in first_headers and before[0]["event_type"] == "user_created"
    assert later_headers["X-Team"] == "blue"
