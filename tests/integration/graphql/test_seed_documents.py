"""The user's own documents, run over real HTTP exactly as a script would send them."""

from __future__ import annotations

from pathlib import Path

import httpx

from auditwire.domain.destinations import BASE58_ALPHABET, TOKEN_LENGTH
from auditwire.services.container import Services
from auditwire.services.context import Actor
from tests.conftest import MakeAccount
from tests.live import LiveServer

# Verbatim from the seed document "List currently enabled streaming destinations".
LIST_QUERY = """query {
  group(fullPath: "my-group") {
    id
    externalAuditEventDestinations {
      nodes {
        destinationUrl
        verificationToken
        id
      }
    }
  }
}"""

# The seed's create mutation with its erratum corrected: `verificationToken` is a field of the
# destination, not of `Group`. (Lines kept as the user wrote them.)
CREATE_MUTATION = """mutation {
  externalAuditEventDestinationCreate(input: { destinationUrl: "https://mydomain.io/endpoint/ingest", groupPath: "my-group" } ) {
    errors
    externalAuditEventDestination {
      destinationUrl
      verificationToken
      group {
        name
      }
    }
  }
}"""  # noqa: E501


async def test_seed_list_query_then_create_mutation_over_http(
    live_server: LiveServer, services: Services, make_account: MakeAccount
) -> None:
    owner = await make_account("alice")
    await services.namespaces.create_group(Actor(owner.user), path="my-group", name="My Group")
    async with httpx.AsyncClient(base_url=live_server.url, headers=owner.headers) as http:
        before = await http.post("/api/graphql", json={"query": LIST_QUERY})
        created = await http.post("/api/graphql", json={"query": CREATE_MUTATION})
        after = await http.post("/api/graphql", json={"query": LIST_QUERY})

    assert before.status_code == 200
    assert "errors" not in before.json()
    group = before.json()["data"]["group"]
    assert group["id"].startswith("gid://gitlab/Group/")
    assert group["externalAuditEventDestinations"] == {"nodes": []}

    assert created.status_code == 200
    payload = created.json()["data"]["externalAuditEventDestinationCreate"]
    assert payload["errors"] == []
    destination = payload["externalAuditEventDestination"]
    assert destination["destinationUrl"] == "https://mydomain.io/endpoint/ingest"
    assert destination["group"] == {"name": "My Group"}
    token = destination["verificationToken"]
    assert len(token) == TOKEN_LENGTH
    assert set(token) <= set(BASE58_ALPHABET)

    assert after.status_code == 200
    nodes = after.json()["data"]["group"]["externalAuditEventDestinations"]["nodes"]
    assert len(nodes) == 1
    assert nodes[0]["verificationToken"] == token
    assert nodes[0]["id"].startswith("gid://gitlab/AuditEvents::ExternalAuditEventDestination/")


def test_readme_shows_both_documents_as_tested() -> None:
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    assert LIST_QUERY in readme
    assert CREATE_MUTATION in readme
    assert "X-Gitlab-Event-Streaming-Token" in readme


async def test_seed_create_mutation_as_written_gets_a_clear_schema_error(
    client: httpx.AsyncClient, services: Services, make_account: MakeAccount
) -> None:
    owner = await make_account("alice")
    await services.namespaces.create_group(Actor(owner.user), path="my-group", name="My Group")
    as_written = CREATE_MUTATION.replace(
        "verificationToken\n      group {\n        name",
        "group {\n        verificationToken\n        name",
    )
    assert as_written != CREATE_MUTATION
    response = await client.post("/api/graphql", json={"query": as_written}, headers=owner.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert [e["message"] for e in body["errors"]] == [
        "Cannot query field 'verificationToken' on type 'Group'."
    ]
    listed = await client.post("/api/graphql", json={"query": LIST_QUERY}, headers=owner.headers)
    assert listed.json()["data"]["group"]["externalAuditEventDestinations"] == {"nodes": []}
