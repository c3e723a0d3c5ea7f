"""An S3 destination's health through the whole path: worker, moto_server and GraphQL."""

from __future__ import annotations

import uuid
from typing import Any

from auditwire.services.container import Services
from tests.integration.graphql.conftest import RunGraphQL
from tests.integration.ops.conftest import Owned
from tests.integration.streaming.factories import eventually, group_event, record
from tests.moto import S3Server

CREATE = """
mutation($input: GroupAuditEventStreamingDestinationsCreateInput!) {
  groupAuditEventStreamingDestinationsCreate(input: $input) {
    errors externalAuditEventDestination { id } } }
"""
HEALTH = """
query { group(fullPath: "acme") { externalAuditEventStreamingDestinations { nodes {
  health { state pendingCount failedCount lastError lastSuccessAt }
  deliveries { nodes { eventId outcome statusCode error } } } } } }
"""


async def test_a_missing_bucket_shows_failing_with_its_backlog_until_it_exists(
    services: Services,
    owned: Owned,
    graphql: RunGraphQL,
    s3_server: S3Server,
    start_worker: Any,
) -> None:
    name = f"later-{uuid.uuid4().hex[:12]}"
    config = s3_server.config(name)
    made = await graphql(
        CREATE,
        {
            "input": {
                "groupPath": "acme",
                "category": "aws",
                "config": config,
                "secretToken": s3_server.secret_access_key,
                "name": "archive",
            }
        },
        as_=owned.owner,
    )
    assert made["data"]["groupAuditEventStreamingDestinationsCreate"]["errors"] == []
    [event_id] = await record(services, [group_event(owned.group.id, "acme")])

    async def view() -> dict[str, Any]:
        body = await graphql(HEALTH, as_=owned.owner)
        assert "errors" not in body, body
        [node] = body["data"]["group"]["externalAuditEventStreamingDestinations"]["nodes"]
        found: dict[str, Any] = node
        return found

    await start_worker(delivery_circuit_failures=1000)
    await eventually(lambda: _state_is(view, "FAILING"))
    failing = (await view())["health"]
    assert failing["pendingCount"] == 2  # the destination's own creation event, and ours
    assert failing["failedCount"] == 0
    assert failing["lastError"].startswith("NoSuchBucket: ")
    assert failing["lastSuccessAt"] is None
    attempts = (await view())["deliveries"]["nodes"]
    assert attempts and all((a["outcome"], a["statusCode"]) == ("RETRY", 404) for a in attempts)

    s3_server.client.create_bucket(Bucket=name)
    await eventually(lambda: _state_is(view, "HEALTHY"))
    await eventually(lambda: _pending_is(view, 0))
    keys = s3_server.keys(name)
    assert len(keys) == 2 and sum(f"_{event_id}_" in key for key in keys) == 1


async def _state_is(view: Any, state: str) -> bool:
    return bool((await view())["health"]["state"] == state)


async def _pending_is(view: Any, count: int) -> bool:
    return bool((await view())["health"]["pendingCount"] == count)
