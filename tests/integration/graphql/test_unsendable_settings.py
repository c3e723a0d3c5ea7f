"""Settings that could never be sent are refused when they are written, with the same URL
parser the sender uses; what is accepted can be sent, and what an attempt meets is a failed
attempt with a readable reason (issue: settings accepted that can never be sent)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from auditwire.domain.owner import OwnerKind
from auditwire.errors import InvalidInput
from auditwire.services.container import Services
from auditwire.services.context import Actor
from auditwire.store import Store
from auditwire.store.schema import audit_events, streaming_headers
from tests.integration.graphql.conftest import ENDPOINT, Acme, RunGraphQL, destination_gid
from tests.integration.streaming.receivers import Receiver, serve

CREATE = """
mutation($url: String!, $token: String) {
  externalAuditEventDestinationCreate(
    input: {destinationUrl: $url, groupPath: "acme", verificationToken: $token}
  ) { errors externalAuditEventDestination { id } }
}"""
HEADER = """
mutation($id: AuditEventsExternalAuditEventDestinationID!, $key: String!, $value: String!) {
  auditEventsStreamingHeadersCreate(input: {destinationId: $id, key: $key, value: $value}) {
    errors header { id }
  }
}"""
UPDATE = """
mutation($id: AuditEventsExternalAuditEventDestinationID!, $url: String!) {
  externalAuditEventDestinationUpdate(input: {id: $id, destinationUrl: $url}) { errors }
}"""
TEST = """
mutation($id: AuditEventsStreamingDestinationID!) {
  auditEventsStreamingDestinationTest(input: {destinationId: $id}) { errors statusCode error }
}"""


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080\\@example.com/",  # a backslash authority
        "http://example.com:0/",  # port 0
        "http://0x7f.1/",  # an IPv4 spelling aiohttp does not take as an address
        "http://2130706433/",
        "http://example.com/a\nb",
    ],
)
async def test_urls_the_sender_cannot_use_are_refused_at_create_and_update(
    url: str, graphql: RunGraphQL, acme: Acme
) -> None:
    created = await graphql(CREATE, {"url": url}, as_=acme.owner)
    payload = created["data"]["externalAuditEventDestinationCreate"]
    assert payload["externalAuditEventDestination"] is None
    assert payload["errors"][0].startswith("Destination url is blocked: ")

    updated = await graphql(
        UPDATE, {"id": destination_gid(acme.destination.id), "url": url}, as_=acme.owner
    )
    assert updated["data"]["externalAuditEventDestinationUpdate"]["errors"][0].startswith(
        "Destination url is blocked: "
    )


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("X-Team", "blue\r\nX-Injected: 1", "Value must not contain line breaks"),
        ("X-Te\nam", "blue", "Key must be a header name"),
        ("X Team", "blue", "Key must be a header name"),
    ],
)
async def test_header_keys_and_values_with_line_breaks_or_nul_are_refused(
    key: str, value: str, message: str, graphql: RunGraphQL, acme: Acme
) -> None:
    body = await graphql(
        HEADER,
        {"id": destination_gid(acme.destination.id), "key": key, "value": value},
        as_=acme.owner,
    )
    payload = body["data"]["auditEventsStreamingHeadersCreate"]
    assert payload["header"] is None
    assert payload["errors"][0].startswith(message)


async def test_a_header_value_with_nul_is_refused_by_the_endpoint_and_by_the_service(
    client: httpx.AsyncClient, acme: Acme, services: Services
) -> None:
    """The endpoint refuses NUL in any variable before running anything; callers in the
    process (the pages) meet the destination's own rule."""
    variables = {"id": destination_gid(acme.destination.id), "key": "X-Team", "value": "blue\x00"}
    response = await client.post(
        ENDPOINT, json={"query": HEADER, "variables": variables}, headers=acme.owner.headers
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "variables must not contain NUL characters"
    with pytest.raises(InvalidInput, match="Value must not contain line breaks"):
        await services.destinations.create_header(
            Actor(acme.owner.user),
            acme.destination.id,
            kind=OwnerKind.GROUP,
            key="X-Team",
            value="blue\x00",
        )
    async with services.store.read() as conn:
        stored = list(await conn.execute(sa.select(streaming_headers.c.key)))
    assert stored == []


async def test_a_verification_token_with_a_line_break_is_refused(
    graphql: RunGraphQL, acme: Acme
) -> None:
    body = await graphql(
        CREATE,
        {"url": "https://siem.example.com/t", "token": "abcdefgh\r\nijklmnop"},
        as_=acme.owner,
    )
    payload = body["data"]["externalAuditEventDestinationCreate"]
    assert payload["errors"] == [
        "Verification token must not contain line breaks, NUL or other control characters"
    ]


async def test_url_credentials_and_an_authorization_header_cannot_both_be_set(
    graphql: RunGraphQL, acme: Acme
) -> None:
    created = await graphql(CREATE, {"url": "https://user:pw@siem.example.com/c"}, as_=acme.owner)
    destination = created["data"]["externalAuditEventDestinationCreate"]
    assert destination["errors"] == []
    gid = destination["externalAuditEventDestination"]["id"]
    body = await graphql(
        HEADER, {"id": gid, "key": "authorization", "value": "Bearer x"}, as_=acme.owner
    )
    assert body["data"]["auditEventsStreamingHeadersCreate"]["errors"] == [
        "Destination url carries credentials, which cannot be sent together with an "
        "Authorization header"
    ]


async def test_a_test_event_to_a_stored_unsendable_header_names_the_reason(
    graphql: RunGraphQL, acme: Acme, services: Services
) -> None:
    """Rows written before these checks may still hold such a header: the attempt fails with
    its reason, never "Internal server error"."""
    async with serve(Receiver()) as receiver:
        await services.destinations.update_destination(
            Actor(acme.owner.user),
            acme.destination.id,
            kind=OwnerKind.GROUP,
            destination_url=f"{receiver.url}/x",
        )
        async with services.store.write() as conn:
            await conn.execute(
                streaming_headers.insert().values(
                    destination_id=acme.destination.id,
                    key="X-Bad",
                    value=services.box.encrypt("a\r\nb"),
                    active=True,
                    created_at=sa.func.now(),
                )
            )
        body = await graphql(TEST, {"id": destination_gid(acme.destination.id)}, as_=acme.owner)
    payload = body["data"]["auditEventsStreamingDestinationTest"]
    assert "errors" not in body
    assert payload["statusCode"] is None
    assert "line break" in payload["error"]


async def test_credentials_in_a_destination_url_are_masked_in_its_audit_events(
    graphql: RunGraphQL, acme: Acme, services: Services
) -> None:
    url = "https://alice:hunter2@siem.example.com/in?token=s3cr3t&x=1"
    created = await graphql(CREATE, {"url": url}, as_=acme.owner)
    assert created["data"]["externalAuditEventDestinationCreate"]["errors"] == []
    async with services.store.read() as conn:
        events = list(await conn.execute(sa.select(audit_events)))
    text = " ".join(repr(e._mapping) for e in events)
    assert "hunter2" not in text and "s3cr3t" not in text
    assert "https://alice:*****@siem.example.com/in?token=*****&x=*****" in text


def test_a_new_sqlite_database_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "data" / "auditwire.db"
    Store(f"sqlite+aiosqlite:///{path}")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
