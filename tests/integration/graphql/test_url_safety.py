"""With local requests not allowed, the API refuses destinations on the local network."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from auditwire.api.app import create_app
from auditwire.config import Settings
from auditwire.store import Store
from tests.conftest import Account
from tests.integration.graphql.conftest import Acme, destination_gid

CREATE = """
mutation($url: String!) {
  externalAuditEventDestinationCreate(input: {destinationUrl: $url, groupPath: "acme"}) {
    errors externalAuditEventDestination { id }
  }
}"""
UPDATE = """
mutation($id: AuditEventsExternalAuditEventDestinationID!, $url: String!) {
  externalAuditEventDestinationUpdate(input: {id: $id, destinationUrl: $url}) {
    errors externalAuditEventDestination { destinationUrl }
  }
}"""
INSTANCE_CREATE = """
mutation($url: String!) {
  instanceExternalAuditEventDestinationCreate(input: {destinationUrl: $url}) { errors }
}"""


@pytest.fixture
async def guarded(settings: Settings, store: Store) -> AsyncIterator[httpx.AsyncClient]:
    """The app as deployed by default: local requests not allowed."""
    strict = settings.model_copy(update={"allow_local_requests": False})
    app = create_app(strict, store)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://auditwire.test") as http:
        yield http


LOCAL_URLS = [
    "http://127.0.0.1:8080/ingest",
    "http://localhost/ingest",
    "http://169.254.169.254/latest/meta-data/",
    "http://0x7f.1/",
    "http://[::ffff:10.0.0.1]/",
    "http://0.0.0.0/",
]


async def test_local_destination_urls_are_refused_on_create_and_update(
    guarded: httpx.AsyncClient, acme: Acme
) -> None:
    for url in LOCAL_URLS:
        await refused_everywhere(guarded, acme, url)


async def refused_everywhere(guarded: httpx.AsyncClient, acme: Acme, url: str) -> None:
    created = await guarded.post(
        "/api/graphql",
        json={"query": CREATE, "variables": {"url": url}},
        headers=acme.owner.headers,
    )
    payload = created.json()["data"]["externalAuditEventDestinationCreate"]
    assert payload["externalAuditEventDestination"] is None
    assert payload["errors"][0].startswith("Destination url is blocked: Requests to"), url

    variables = {"id": destination_gid(acme.destination.id), "url": url}
    updated = await guarded.post(
        "/api/graphql", json={"query": UPDATE, "variables": variables}, headers=acme.owner.headers
    )
    payload = updated.json()["data"]["externalAuditEventDestinationUpdate"]
    assert payload["errors"][0].startswith("Destination url is blocked: Requests to"), url


async def test_public_ip_destination_is_accepted_with_local_requests_not_allowed(
    guarded: httpx.AsyncClient, acme: Acme
) -> None:
    created = await guarded.post(
        "/api/graphql",
        json={"query": CREATE, "variables": {"url": "https://93.184.216.34/ingest"}},
        headers=acme.owner.headers,
    )
    assert created.json()["data"]["externalAuditEventDestinationCreate"]["errors"] == []


async def test_instance_destinations_are_guarded_too(
    guarded: httpx.AsyncClient, root: Account
) -> None:
    refused = await guarded.post(
        "/api/graphql",
        json={"query": INSTANCE_CREATE, "variables": {"url": "http://10.0.0.8/"}},
        headers=root.headers,
    )
    errors = refused.json()["data"]["instanceExternalAuditEventDestinationCreate"]["errors"]
    assert errors == ["Destination url is blocked: Requests to the local network are not allowed"]
