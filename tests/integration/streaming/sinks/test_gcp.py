"""The Google Cloud Logging sink against loopback token and logging servers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import orjson
import pytest
from aiohttp import web

from auditwire.streaming.sinks import GcpSink, GcpTarget, Verdict
from tests.events import audit_event
from tests.integration.streaming.sinks.google import (
    CLIENT_EMAIL,
    Google,
    google_error,
    new_private_key,
    serve_google,
)

CONFIG = {"googleProjectIdName": "my-project", "clientEmail": CLIENT_EMAIL}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Setup:
    google: Google
    sink: GcpSink
    target: GcpTarget
    clock: FakeClock


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    pem, public_key = new_private_key()
    async with serve_google(Google(public_key)) as google:
        clock = FakeClock()
        sink = GcpSink(token_url=google.token_url, logging_url=google.logging_url, clock=clock)
        await sink.start()
        try:
            yield Setup(google, sink, sink.prepare(CONFIG, pem), clock)
        finally:
            await sink.close()


async def _send(setup: Setup, event_id: int) -> Verdict:
    event = audit_event(event_id)
    answer = await setup.sink.send(setup.target, event, event.stream_body())
    return answer.verdict


async def test_each_event_is_one_entry_and_one_token_serves_many(setup: Setup) -> None:
    events = [audit_event(n) for n in range(1, 11)]
    for event in events:
        answer = await setup.sink.send(setup.target, event, event.stream_body())
        assert (answer.verdict, answer.status) == (Verdict.DELIVERED, 200)

    assert setup.google.refused_grants == []
    assert setup.google.minted == ["token-1"]
    assert setup.google.bearers == ["token-1"] * 10
    assert [entry["jsonPayload"] for entry in setup.google.entries] == [
        orjson.loads(event.stream_body()) for event in events
    ]
    assert {entry["logName"] for entry in setup.google.entries} == {
        "projects/my-project/logs/audit-events"
    }


async def test_concurrent_events_wait_for_a_single_token(setup: Setup) -> None:
    verdicts = await asyncio.gather(*(_send(setup, n) for n in range(1, 21)))
    assert verdicts == [Verdict.DELIVERED] * 20
    assert setup.google.minted == ["token-1"]


async def test_a_token_is_minted_again_shortly_before_it_expires(setup: Setup) -> None:
    setup.google.expires_in = 600  # usable for 300 s after the 300 s margin
    assert await _send(setup, 1) is Verdict.DELIVERED
    setup.clock.now += 299
    assert await _send(setup, 2) is Verdict.DELIVERED
    assert setup.google.minted == ["token-1"]

    setup.clock.now += 2
    assert await _send(setup, 3) is Verdict.DELIVERED
    assert setup.google.minted == ["token-1", "token-2"]
    assert setup.google.bearers == ["token-1", "token-1", "token-2"]


async def test_a_refused_token_is_dropped_and_the_write_tried_once_more(setup: Setup) -> None:
    assert await _send(setup, 1) is Verdict.DELIVERED
    setup.google.revoked.add("token-1")
    assert await _send(setup, 2) is Verdict.DELIVERED
    assert setup.google.bearers == ["token-1", "token-1", "token-2"]
    assert [entry["jsonPayload"]["id"] for entry in setup.google.entries] == [1, 2]


async def test_a_token_refused_twice_is_retried_later_with_googles_reason(setup: Setup) -> None:
    async def always_unauthenticated(_request: web.Request) -> web.Response:
        return google_error(401, "UNAUTHENTICATED", "Request had invalid authentication.")

    setup.google.on_write = always_unauthenticated
    event = audit_event(1)
    answer = await setup.sink.send(setup.target, event, event.stream_body())
    assert answer.verdict is Verdict.RETRY
    assert answer.status == 401
    assert answer.detail == "UNAUTHENTICATED: Request had invalid authentication."
    assert setup.google.writes == 2  # one refresh, not a loop
    assert setup.google.minted == ["token-1", "token-2"]


async def test_a_server_error_is_retried_with_googles_message(setup: Setup) -> None:
    async def unavailable(_request: web.Request) -> web.Response:
        return google_error(503, "UNAVAILABLE", "The service is currently unavailable.")

    setup.google.on_write = unavailable
    event = audit_event(1)
    answer = await setup.sink.send(setup.target, event, event.stream_body())
    assert answer.verdict is Verdict.RETRY
    assert answer.status == 503
    assert answer.detail == "UNAVAILABLE: The service is currently unavailable."

    setup.google.on_write = None
    assert await _send(setup, 1) is Verdict.DELIVERED


async def test_too_many_requests_carries_the_retry_after(setup: Setup) -> None:
    async def slow_down(_request: web.Request) -> web.Response:
        response = google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded.")
        response.headers["Retry-After"] = "7"
        return response

    setup.google.on_write = slow_down
    event = audit_event(1)
    answer = await setup.sink.send(setup.target, event, event.stream_body())
    assert (answer.verdict, answer.status, answer.retry_after) == (Verdict.RETRY, 429, 7.0)
    assert answer.detail == "RESOURCE_EXHAUSTED: Quota exceeded."


async def test_a_key_google_does_not_know_is_retried_with_the_grant_error(
    setup: Setup,
) -> None:
    other_pem, _ = new_private_key()
    target = setup.sink.prepare(CONFIG, other_pem)
    event = audit_event(1)
    answer = await setup.sink.send(target, event, event.stream_body())
    assert answer.verdict is Verdict.RETRY
    assert answer.status == 400
    assert answer.detail == "token: invalid_grant: Invalid JWT Signature."
    assert setup.google.refused_grants == ["Signature verification failed"]
    assert setup.google.writes == 0


async def test_a_failing_token_endpoint_is_retried_and_then_recovers(setup: Setup) -> None:
    async def broken(_request: web.Request) -> web.Response:
        return web.json_response({"error": "internal_failure"}, status=500)

    setup.google.on_token = broken
    event = audit_event(1)
    answer = await setup.sink.send(setup.target, event, event.stream_body())
    assert (answer.verdict, answer.status, answer.detail) == (
        Verdict.RETRY,
        500,
        "token: internal_failure",
    )
    assert setup.google.writes == 0

    setup.google.on_token = None
    assert await _send(setup, 1) is Verdict.DELIVERED
    assert setup.google.minted == ["token-1"]
