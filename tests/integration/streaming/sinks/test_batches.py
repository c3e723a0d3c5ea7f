"""Batched HTTP (JSON array, NDJSON) against a loopback receiver that verifies the Standard
Webhooks signature, and batched S3 objects against moto_server."""

from __future__ import annotations

import gzip
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from aiohttp import web
from standardwebhooks.webhooks import Webhook

from auditwire.domain.signing import new_signing_secret, signing_key
from auditwire.streaming.sinks import HttpBatchSink, S3BatchSink, Verdict
from tests.events import outgoing
from tests.integration.streaming.sinks.receivers import serve
from tests.moto import S3Server

TOKEN = "a" * 24
SENT_AT = datetime(2026, 11, 30, 23, 59, 58, 123000, tzinfo=UTC)
SENT_MS = 1_796_083_198_123


def verify(secret: str, body: bytes, headers: Any) -> None:
    """Check the signature with the Standard Webhooks library. Its `verify` also parses the
    body as one JSON document, which NDJSON is not, so the signature is compared directly."""
    moment = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
    expected = Webhook(secret).sign(headers["webhook-id"], moment, body.decode())
    assert headers["webhook-signature"] == expected


@pytest.fixture
async def received() -> AsyncIterator[tuple[str, list[web.Request], list[bytes]]]:
    requests: list[web.Request] = []
    bodies: list[bytes] = []

    async def accept(request: web.Request) -> web.Response:
        requests.append(request)
        bodies.append(await request.read())
        return web.Response(status=200)

    async with serve([("/hook", accept)]) as url:
        yield f"{url}/hook", requests, bodies


@pytest.mark.parametrize(
    ("layout", "content_type"),
    [("json_array", "application/json"), ("ndjson", "application/x-ndjson")],
)
async def test_a_batch_is_one_signed_post_in_its_format(
    received: tuple[str, list[web.Request], list[bytes]], layout: str, content_type: str
) -> None:
    url, requests, bodies = received
    secret = new_signing_secret()
    config: dict[str, Any] = {
        "url": url,
        "format": layout,
        "batch": {"maxEvents": 100, "maxWaitMs": 50},
        "headers": {
            "X-Team": {"value": "sec", "active": True},
            "X-Off": {"value": "no", "active": False},
        },
    }
    sink = HttpBatchSink(allow_local_requests=True)
    await sink.start()
    try:
        target = sink.prepare(config, TOKEN, signing_key(secret))
        assert sink.limits(target).max_events == 100
        assert sink.limits(target).max_wait_ms == 50
        items = outgoing(*range(1, 12))
        answer = await sink.send_batch(target, items)
    finally:
        await sink.close()

    assert (answer.answer.verdict, answer.requests) == (Verdict.DELIVERED, 1)
    [request], [body] = requests, bodies
    headers = request.headers
    assert headers["Content-Type"] == content_type
    assert headers["X-Gitlab-Event-Streaming-Token"] == TOKEN
    assert headers["X-Team"] == "sec" and "X-Off" not in headers
    assert "X-Gitlab-Audit-Event-Type" not in headers
    assert headers["webhook-id"] == "1-11"
    verify(secret, body, headers)
    if layout == "json_array":  # the library's own check, for a body that is one document
        Webhook(secret).verify(body, dict(headers))
    if layout == "json_array":
        events = orjson.loads(body)
    else:
        assert body.endswith(b"\n")
        events = [orjson.loads(line) for line in body.splitlines()]
    assert events == [orjson.loads(item.body) for item in items]


async def test_a_batch_over_max_events_goes_in_several_signed_posts(
    received: tuple[str, list[web.Request], list[bytes]],
) -> None:
    url, requests, bodies = received
    secret = new_signing_secret()
    config = {"url": url, "format": "json_array", "batch": {"maxEvents": 4}}
    sink = HttpBatchSink(allow_local_requests=True)
    await sink.start()
    try:
        answer = await sink.send_batch(
            sink.prepare(config, TOKEN, signing_key(secret)), outgoing(*range(1, 11))
        )
    finally:
        await sink.close()
    assert (answer.answer.verdict, answer.requests) == (Verdict.DELIVERED, 3)
    assert [r.headers["webhook-id"] for r in requests] == ["1-4", "5-8", "9-10"]
    for request, body in zip(requests, bodies, strict=True):
        verify(secret, body, request.headers)
    assert [e["id"] for body in bodies for e in orjson.loads(body)] == list(range(1, 11))


async def test_a_batch_lands_as_one_gzipped_ndjson_object(s3_server: S3Server) -> None:
    bucket = f"lake-{uuid.uuid4().hex[:12]}"
    s3_server.client.create_bucket(Bucket=bucket)
    sink = S3BatchSink(allow_local_requests=True, clock=SENT_AT.timestamp)
    await sink.start()
    try:
        target = sink.prepare(
            {**s3_server.config(bucket), "format": "ndjson_gz"}, s3_server.secret_access_key
        )
        items = outgoing(*range(40, 60))
        answer = await sink.send_batch(target, items)
    finally:
        await sink.close()

    assert (answer.answer.verdict, answer.answer.status) == (Verdict.DELIVERED, 200)
    listing = s3_server.client.list_objects_v2(Bucket=bucket)
    assert [item["Key"] for item in listing["Contents"]] == [f"2026/11/30/{SENT_MS}_40.json.gz"]
    stored = s3_server.client.get_object(Bucket=bucket, Key=f"2026/11/30/{SENT_MS}_40.json.gz")
    assert stored["ContentType"] == "application/gzip"
    lines = gzip.decompress(stored["Body"].read()).splitlines()
    assert lines == [item.body for item in items]


async def test_a_batch_to_a_missing_bucket_is_retried_whole(s3_server: S3Server) -> None:
    sink = S3BatchSink(allow_local_requests=True, clock=SENT_AT.timestamp)
    await sink.start()
    try:
        config = {**s3_server.config(f"none-{uuid.uuid4().hex[:8]}"), "format": "ndjson_gz"}
        answer = await sink.send_batch(
            sink.prepare(config, s3_server.secret_access_key), outgoing(1, 2)
        )
    finally:
        await sink.close()
    assert (answer.answer.verdict, answer.answer.status) == (Verdict.RETRY, 404)
    assert answer.answer.detail is not None and answer.answer.detail.startswith("NoSuchBucket")
    assert answer.exceptions == {}
