"""The Datadog sink against a loopback receiver that behaves like the logs intake."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import orjson
import pytest
from aiohttp import web

from auditwire.domain.events import streamed
from auditwire.streaming.sinks import DatadogSink, Verdict
from tests.events import audit_event, outgoing
from tests.integration.streaming.sinks.receivers import Intake, serve_intake

API_KEY = "0123456789abcdef0123456789abcdef"


@pytest.fixture
async def intake() -> AsyncIterator[Intake]:
    async with serve_intake(Intake(API_KEY)) as intake:
        yield intake


@pytest.fixture
async def sink() -> AsyncIterator[DatadogSink]:
    sink = DatadogSink(allow_local_requests=True)
    await sink.start()
    yield sink
    await sink.close()


def ids_of(intake: Intake) -> list[int]:
    return [orjson.loads(log["message"])["id"] for log in intake.logs]


async def test_a_batch_is_one_gzipped_array_of_logs(sink: DatadogSink, intake: Intake) -> None:
    config = {"url": intake.url, "service": "gitlab-audit", "ddtags": "env:prod,team:sec"}
    target = sink.prepare(config, API_KEY)
    items = outgoing(*range(1, 31))
    answer = await sink.send_batch(target, items)

    assert (answer.answer.verdict, answer.answer.status, answer.requests) == (
        Verdict.DELIVERED,
        202,
        1,
    )
    assert intake.requests == 1
    assert ids_of(intake) == list(range(1, 31))
    first = intake.logs[0]
    assert set(first) == {"ddsource", "ddtags", "service", "message"}
    assert (first["ddsource"], first["ddtags"], first["service"]) == (
        "gitlab",
        "env:prod,team:sec",
        "gitlab-audit",
    )
    assert [orjson.loads(log["message"]) for log in intake.logs] == [
        orjson.loads(item.body) for item in items
    ]


async def test_too_large_a_payload_is_split_and_every_event_arrives_once(
    sink: DatadogSink, intake: Intake
) -> None:
    intake.max_payload = 3000  # bytes: a few logs per request
    target = sink.prepare({"url": intake.url}, API_KEY)
    answer = await sink.send_batch(target, outgoing(*range(1, 21)))

    assert answer.answer.verdict is Verdict.DELIVERED
    assert answer.exceptions == {}
    assert intake.too_large > 0
    assert answer.requests == intake.requests > 2
    assert sorted(ids_of(intake)) == list(range(1, 21))
    assert len(ids_of(intake)) == 20


@pytest.mark.parametrize(
    ("headers", "wait"),
    [({"Retry-After": "4"}, 4.0), ({"X-RateLimit-Reset": "9"}, 9.0), ({}, None)],
)
async def test_rate_limited_is_retried_after_the_intakes_wait(
    sink: DatadogSink, intake: Intake, headers: dict[str, str], wait: float | None
) -> None:
    async def limited(_request: web.Request) -> web.Response:
        return web.json_response({"errors": ["Too many requests"]}, status=429, headers=headers)

    intake.on_post = limited
    target = sink.prepare({"url": intake.url}, API_KEY)
    answer = await sink.send_batch(target, outgoing(1, 2, 3))
    assert (answer.answer.verdict, answer.answer.status, answer.answer.retry_after) == (
        Verdict.RETRY,
        429,
        wait,
    )
    assert answer.answer.detail == "Too many requests"
    assert answer.exceptions == {}


async def test_a_wrong_api_key_is_a_retried_configuration_error(
    sink: DatadogSink, intake: Intake
) -> None:
    target = sink.prepare({"url": intake.url}, "not-the-key")
    answer = await sink.send_batch(target, outgoing(1))
    assert (answer.answer.verdict, answer.answer.status, answer.answer.detail) == (
        Verdict.RETRY,
        403,
        "Forbidden",
    )


async def test_a_log_over_one_megabyte_is_refused_and_the_others_delivered(
    sink: DatadogSink, intake: Intake
) -> None:
    huge = dataclasses.replace(audit_event(2), details={"custom_message": "x" * 1_100_000})
    items = [*outgoing(1), streamed(huge), *outgoing(3)]
    target = sink.prepare({"url": intake.url}, API_KEY)
    answer = await sink.send_batch(target, items)

    assert answer.answer.verdict is Verdict.DELIVERED
    assert list(answer.refused()) == [1]
    assert "Datadog takes at most 1048576" in answer.refused()[1]
    assert ids_of(intake) == [1, 3]
