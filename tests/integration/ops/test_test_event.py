"""The "does my token work" button: one test event sent at once, its answer reported."""

from __future__ import annotations

import orjson
import sqlalchemy as sa
from aiohttp import web
from standardwebhooks import Webhook

from auditwire.domain.owner import OwnerKind
from auditwire.services.container import Services
from auditwire.services.context import Actor
from auditwire.store.schema import audit_events, deliveries
from tests.conftest import Account
from tests.integration.graphql.conftest import RunGraphQL, destination_gid, gid
from tests.integration.ops.conftest import Owned
from tests.integration.streaming.receivers import Receiver, serve

TOKEN = "splunk-hec-token-0001"
TEST = """
mutation($id: AuditEventsStreamingDestinationID!) {
  auditEventsStreamingDestinationTest(input: {destinationId: $id, clientMutationId: "t"}) {
    clientMutationId errors eventId statusCode durationMs error
  }
}
"""
INSTANCE_TEST = """
mutation($id: AuditEventsStreamingDestinationID!) {
  auditEventsStreamingDestinationInstanceTest(input: {destinationId: $id}) {
    errors eventId statusCode durationMs error
  }
}
"""


class TokenCheck:
    """A receiver that answers 401 unless the streaming token is the expected one."""

    def __init__(self, expected: str) -> None:
        self.expected = expected

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("X-Gitlab-Event-Streaming-Token") != self.expected:
            return web.Response(status=401, text="invalid token")
        return web.Response(status=200)


async def test_the_test_mutation_reports_401_from_a_receiver_that_rejects_the_token_then_200(
    graphql: RunGraphQL, services: Services, owned: Owned
) -> None:
    check = TokenCheck("a-token-nobody-has-000")
    async with serve(Receiver(check)) as receiver:
        destination = await services.destinations.create_group_destination(
            owned.actor,
            group_path="acme",
            destination_url=receiver.url,
            name="splunk",
            verification_token=TOKEN,
        )
        await services.destinations.create_header(
            owned.actor, destination.id, kind=OwnerKind.GROUP, key="X-Team", value="blue"
        )
        variables = {"id": destination_gid(destination.id)}
        refused = await graphql(TEST, variables, as_=owned.owner)
        payload = refused["data"]["auditEventsStreamingDestinationTest"]
        assert payload["errors"] == []
        assert payload["clientMutationId"] == "t"
        assert payload["statusCode"] == 401
        assert payload["error"] == "HTTP 401"
        assert payload["durationMs"] >= 0

        check.expected = TOKEN
        accepted = await graphql(TEST, variables, as_=owned.owner)
        payload = accepted["data"]["auditEventsStreamingDestinationTest"]
        assert (payload["statusCode"], payload["error"]) == (200, None)

    [sent] = receiver.received
    body = orjson.loads(sent.body)
    assert str(body["id"]) == payload["eventId"] == sent.headers["webhook-id"]
    assert body["event_type"] == "streaming_destination_test"
    assert body["entity_path"] == "acme"
    assert sent.headers["X-Gitlab-Audit-Event-Type"] == "streaming_destination_test"
    assert sent.headers["X-Team"] == "blue"
    Webhook(destination.signing_secret).verify(sent.body, dict(sent.headers))
    async with services.store.read() as conn:
        stored = (
            await conn.execute(sa.select(audit_events).where(audit_events.c.id == body["id"]))
        ).one()
        queued = (
            await conn.execute(
                sa.select(sa.func.count()).where(deliveries.c.event_id == body["id"])
            )
        ).scalar_one()
    assert stored.stream_only is True  # a real id, kept out of the audit event lists
    assert queued == 0  # sent once, by the mutation, never queued for anyone


async def test_the_instance_test_mutation_sends_to_an_instance_destination(
    graphql: RunGraphQL, services: Services, root: Account
) -> None:
    async with serve(Receiver()) as receiver:
        destination = await services.destinations.create_instance_destination(
            Actor(root.user), destination_url=receiver.url
        )
        body = await graphql(
            INSTANCE_TEST,
            {"id": gid("AuditEvents::InstanceExternalAuditEventDestination", destination.id)},
            as_=root,
        )
    payload = body["data"]["auditEventsStreamingDestinationInstanceTest"]
    assert (payload["errors"], payload["statusCode"], payload["error"]) == ([], 200, None)
    [sent] = receiver.received
    assert sent.headers["X-Gitlab-Event-Streaming-Token"] == destination.verification_token
    assert orjson.loads(sent.body)["entity_type"] == "Instance"


async def test_the_test_mutation_reports_a_connection_error_without_a_status(
    graphql: RunGraphQL, services: Services, owned: Owned
) -> None:
    async with serve(Receiver()) as receiver:
        closed_url = receiver.url  # nothing listens there once the receiver is gone
    destination = await services.destinations.create_group_destination(
        owned.actor, group_path="acme", destination_url=closed_url, name="gone"
    )
    body = await graphql(TEST, {"id": destination_gid(destination.id)}, as_=owned.owner)
    payload = body["data"]["auditEventsStreamingDestinationTest"]
    assert payload["statusCode"] is None
    assert payload["error"]
    assert payload["eventId"] is not None
