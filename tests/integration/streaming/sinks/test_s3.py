"""The S3 sink against a real S3 API server on loopback (moto_server)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import orjson
import pytest

from auditwire.streaming.sinks import S3Sink, Verdict
from tests.events import audit_event
from tests.live import free_port
from tests.moto import S3Server

# The upload time the sink's clock reads: another month than the events' created_at.
SENT_AT = datetime(2026, 11, 30, 23, 59, 58, 123000, tzinfo=UTC)
SENT_MS = 1_796_083_198_123


@pytest.fixture
async def sink() -> AsyncIterator[S3Sink]:
    sink = S3Sink(allow_local_requests=True, clock=SENT_AT.timestamp)
    await sink.start()
    yield sink
    await sink.close()


async def test_every_event_lands_as_one_object_under_gitlabs_key(
    sink: S3Sink, s3_server: S3Server, bucket: str
) -> None:
    assert int(SENT_AT.timestamp() * 1000) == SENT_MS
    target = sink.prepare(s3_server.config(bucket), s3_server.secret_access_key)
    events = [
        audit_event(101, entity_type="Group"),
        audit_event(102, entity_type="Project", event_type="project_created"),
        audit_event(103, entity_type="User", event_type="user_blocked"),
        audit_event(104, entity_type="Instance", event_type="application_setting_updated"),
    ]
    for event in events:
        answer = await sink.send(target, event, event.stream_body())
        assert (answer.verdict, answer.status, answer.detail) == (Verdict.DELIVERED, 200, None)

    expected = {
        f"group/2026/11/update_approval_rules_101_{SENT_MS}.json": events[0],
        f"project/2026/11/project_created_102_{SENT_MS}.json": events[1],
        f"user/2026/11/user_blocked_103_{SENT_MS}.json": events[2],
        f"instance/2026/11/application_setting_updated_104_{SENT_MS}.json": events[3],
    }
    assert s3_server.keys(bucket) == sorted(expected)
    for key, event in expected.items():
        stored = s3_server.client.get_object(Bucket=bucket, Key=key)
        assert stored["ContentType"] == "application/json"
        body = stored["Body"].read()
        assert body == event.stream_body()
        assert orjson.loads(body)["id"] == event.id


async def test_a_missing_bucket_is_retried_with_its_code_and_delivered_once_created(
    sink: S3Sink, s3_server: S3Server
) -> None:
    name = f"later-{uuid.uuid4().hex[:12]}"
    target = sink.prepare(s3_server.config(name), s3_server.secret_access_key)
    event = audit_event(201)

    answer = await sink.send(target, event, event.stream_body())
    assert answer.verdict is Verdict.RETRY
    assert answer.status == 404
    assert answer.detail is not None and answer.detail.startswith("NoSuchBucket: ")

    s3_server.client.create_bucket(Bucket=name)
    answer = await sink.send(target, event, event.stream_body())
    assert answer.verdict is Verdict.DELIVERED
    assert s3_server.keys(name) == [f"group/2026/11/update_approval_rules_201_{SENT_MS}.json"]


async def test_a_wrong_secret_is_retried_with_signature_does_not_match(
    sink: S3Sink, s3_server: S3Server, bucket: str
) -> None:
    target = sink.prepare(s3_server.config(bucket), "not-the-secret-access-key")
    event = audit_event(301)
    answer = await sink.send(target, event, event.stream_body())
    assert answer.verdict is Verdict.RETRY
    assert answer.status == 403
    assert answer.detail is not None and answer.detail.startswith("SignatureDoesNotMatch: ")
    assert s3_server.keys(bucket) == []

    fixed = sink.prepare(s3_server.config(bucket), s3_server.secret_access_key)
    assert (await sink.send(fixed, event, event.stream_body())).verdict is Verdict.DELIVERED
    assert len(s3_server.keys(bucket)) == 1


async def test_an_unknown_access_key_is_retried_with_invalid_access_key_id(
    sink: S3Sink, s3_server: S3Server, bucket: str
) -> None:
    config = {**s3_server.config(bucket), "accessKeyXid": "AKIAUNKNOWNKEY000000"}
    target = sink.prepare(config, s3_server.secret_access_key)
    event = audit_event(401)
    answer = await sink.send(target, event, event.stream_body())
    assert answer.verdict is Verdict.RETRY
    assert answer.status == 403
    assert answer.detail is not None and answer.detail.startswith("InvalidAccessKeyId: ")
    assert s3_server.keys(bucket) == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_the_guard_refuses_a_local_endpoint_unless_local_requests_are_allowed(
    s3_server: S3Server, bucket: str, host: str
) -> None:
    port = s3_server.url.rsplit(":", 1)[1]
    config = s3_server.config(bucket, endpointUrl=f"http://{host}:{port}")
    guarded = S3Sink(clock=SENT_AT.timestamp)
    await guarded.start()
    try:
        target = guarded.prepare(config, s3_server.secret_access_key)
        event = audit_event(501)
        answer = await guarded.send(target, event, event.stream_body())
    finally:
        await guarded.close()
    assert answer.verdict is Verdict.RETRY
    assert answer.status is None
    assert answer.detail is not None
    assert answer.detail.startswith("Destination url is blocked: requests to loopback")
    assert s3_server.keys(bucket) == []


async def test_no_answer_is_retried_with_the_reason(sink: S3Sink, s3_server: S3Server) -> None:
    config = s3_server.config("nowhere", endpointUrl=f"http://127.0.0.1:{free_port()}")
    target = sink.prepare(config, s3_server.secret_access_key)
    event = audit_event(601)
    answer = await sink.send(target, event, event.stream_body())
    assert answer.verdict is Verdict.RETRY
    assert answer.status is None
    assert answer.detail is not None and "Connect" in answer.detail
