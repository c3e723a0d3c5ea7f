"""The endpoint: schema file, introspection, GET for queries, the explorer, authentication."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from graphql import get_introspection_query

from auditwire.api.app import create_app
from auditwire.api.graphql.limits import AUTHENTICATED_MAX_DEPTH
from auditwire.api.graphql.schema import schema_sdl
from auditwire.config import Settings
from auditwire.store import Store
from tests.conftest import Account
from tests.integration.graphql.conftest import Acme, RunGraphQL

SCHEMA_FILE = Path(__file__).resolve().parents[3] / "schema.graphql"


def test_schema_graphql_is_up_to_date() -> None:
    assert SCHEMA_FILE.read_text() == schema_sdl(), (
        "schema.graphql is stale: run `python -m auditwire.api.graphql.schema` at the repo root"
    )


async def test_introspection_describes_gitlabs_types(client: httpx.AsyncClient) -> None:
    query = """{ __schema { mutationType { fields { name } } }
                 __type(name: "ExternalAuditEventDestination") { fields { name } } }"""
    response = await client.post("/api/graphql", json={"query": query})
    assert response.status_code == 200
    data = response.json()["data"]
    fields = {f["name"] for f in data["__type"]["fields"]}
    assert fields >= {
        "id",
        "name",
        "destinationUrl",
        "verificationToken",
        "group",
        "headers",
        "eventTypeFilters",
        "namespaceFilter",
        "active",
        "signingSecret",
    }
    mutations = {f["name"] for f in data["__schema"]["mutationType"]["fields"]}
    assert "auditEventsStreamingHTTPNamespaceFiltersAdd" in mutations
    assert "auditEventsStreamingDestinationInstanceEventsRemove" in mutations


async def test_queries_work_over_get_with_either_token_header(
    client: httpx.AsyncClient, root: Account
) -> None:
    params = {"query": "{ currentUser { username id } }"}
    by_header = await client.get("/api/graphql", params=params, headers=root.headers)
    by_bearer = await client.get(
        "/api/graphql", params=params, headers={"Authorization": f"Bearer {root.token}"}
    )
    assert by_header.status_code == by_bearer.status_code == 200
    user = by_header.json()["data"]["currentUser"]
    assert user == {"username": "root", "id": f"gid://gitlab/User/{root.user.id}"}
    assert by_bearer.json() == by_header.json()


async def test_mutations_are_refused_over_get(client: httpx.AsyncClient, root: Account) -> None:
    query = (
        "mutation { instanceExternalAuditEventDestinationCreate(input: "
        '{destinationUrl: "https://siem.example.com/get"}) { errors } }'
    )
    response = await client.get("/api/graphql", params={"query": query}, headers=root.headers)
    assert 400 <= response.status_code < 500
    listed = await client.post(
        "/api/graphql",
        json={"query": "{ instanceExternalAuditEventDestinations { nodes { id } } }"},
        headers=root.headers,
    )
    assert listed.json()["data"]["instanceExternalAuditEventDestinations"] == {"nodes": []}


async def test_an_unknown_token_gets_401_not_anonymity(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/graphql",
        json={"query": "{ currentUser { username } }"},
        headers={"PRIVATE-TOKEN": "awpat-unknown"},
    )
    assert response.status_code == 401
    anonymous = await client.post("/api/graphql", json={"query": "{ currentUser { username } }"})
    assert anonymous.json() == {"data": {"currentUser": None}}


async def test_graphql_explorer_is_served_with_all_its_assets_locally(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/-/graphql-explorer")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(asset.startswith("/-/static/") for asset in assets)
    for asset in assets:
        assert (await client.get(asset)).status_code == 200, asset


async def test_an_unexpected_failure_is_masked_and_logged_not_a_500(
    settings: Settings,
    store: Store,
    acme: Acme,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = create_app(settings, store)

    async def broken(*_args: object) -> None:
        raise RuntimeError("connection string postgres://secret@db")

    monkeypatch.setattr(app.state.services.destinations, "group_destinations", broken)
    query = '{ group(fullPath: "acme") { name externalAuditEventDestinations { nodes { id } } } }'
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://auditwire.test") as http:
        response = await http.post(
            "/api/graphql", json={"query": query}, headers=acme.owner.headers
        )
    assert response.status_code == 200
    body = response.json()
    assert body["data"]["group"] == {"name": "Acme", "externalAuditEventDestinations": None}
    assert [e["message"] for e in body["errors"]] == ["Internal server error"]
    assert "secret" not in response.text
    assert "GraphQL resolver failed" in caplog.text


async def test_an_operation_nested_past_the_depth_limit_is_refused_before_it_runs(
    graphql: RunGraphQL, acme: Acme
) -> None:
    # destination -> group -> destinations -> ...: each turn of the cycle is three levels.
    def nested(turns: int) -> str:
        inner = "name"
        for _ in range(turns):
            inner = f"name externalAuditEventDestinations {{ nodes {{ group {{ {inner} }} }} }}"
        return f"""mutation {{ externalAuditEventDestinationCreate(input: {{
            destinationUrl: "https://siem.example.com/deep", groupPath: "acme" }}) {{
              errors externalAuditEventDestination {{ group {{ {inner} }} }} }} }}"""

    deep = await graphql(nested(6), as_=acme.owner)
    assert deep.get("data") is None
    (error,) = deep["errors"]
    assert error["message"].startswith("Query has depth of ")
    assert error["message"].endswith(f"which exceeds max depth of {AUTHENTICATED_MAX_DEPTH}")
    listed = await graphql(
        '{ group(fullPath: "acme") { externalAuditEventDestinations { nodes { destinationUrl } } } '
        "}",
        as_=acme.owner,
    )
    urls = [
        n["destinationUrl"]
        for n in listed["data"]["group"]["externalAuditEventDestinations"]["nodes"]
    ]
    assert "https://siem.example.com/deep" not in urls

    shallow = await graphql(nested(2), as_=acme.owner)
    assert shallow["data"]["externalAuditEventDestinationCreate"]["errors"] == []
    created = shallow["data"]["externalAuditEventDestinationCreate"][
        "externalAuditEventDestination"
    ]
    assert created["group"]["name"] == "Acme"


async def test_the_standard_introspection_query_fits_the_depth_limit(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/api/graphql", json={"query": get_introspection_query()})
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body, body["errors"]
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"
