"""GraphQL clients written for GitLab work against auditwire unchanged."""

from __future__ import annotations

import gitlab
from gql import Client, GraphQLRequest
from gql.transport.aiohttp import AIOHTTPTransport

from auditwire.services.container import Services
from auditwire.services.context import Actor
from tests.conftest import MakeAccount
from tests.live import LiveServer

CLIENT_TIMEOUT = 10  # seconds

CREATE = """
mutation($url: String!, $group: ID!, $name: String) {
  externalAuditEventDestinationCreate(
    input: {destinationUrl: $url, groupPath: $group, name: $name}
  ) {
    errors
    externalAuditEventDestination { id name destinationUrl verificationToken group { fullPath } }
  }
}"""
ADD_HEADER = """
mutation($id: AuditEventsExternalAuditEventDestinationID!) {
  auditEventsStreamingHeadersCreate(
    input: {destinationId: $id, key: "Authorization", value: "Splunk abc"}
  ) {
    errors header { key value active }
  }
}"""
LIST = """
query($group: ID!) {
  group(fullPath: $group) {
    externalAuditEventDestinations {
      edges { cursor node { name headers { nodes { key } } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""


async def test_gql_with_aiohttp_validates_against_the_introspected_schema(
    live_server: LiveServer, services: Services, make_account: MakeAccount
) -> None:
    owner = await make_account("alice")
    await services.namespaces.create_group(Actor(owner.user), path="my-group", name="My Group")
    transport = AIOHTTPTransport(
        url=f"{live_server.url}/api/graphql", headers=owner.headers, timeout=CLIENT_TIMEOUT
    )
    client = Client(transport=transport, fetch_schema_from_transport=True)
    async with client as session:
        created = await session.execute(
            GraphQLRequest(
                CREATE,
                variable_values={
                    "url": "https://siem.example.com/gql",
                    "group": "my-group",
                    "name": "splunk",
                },
            )
        )
        payload = created["externalAuditEventDestinationCreate"]
        assert payload["errors"] == []
        destination = payload["externalAuditEventDestination"]
        assert destination["group"] == {"fullPath": "my-group"}
        header = await session.execute(
            GraphQLRequest(ADD_HEADER, variable_values={"id": destination["id"]})
        )
        assert header["auditEventsStreamingHeadersCreate"]["header"] == {
            "key": "Authorization",
            "value": "Splunk abc",
            "active": True,
        }
        listed = await session.execute(GraphQLRequest(LIST, variable_values={"group": "my-group"}))
    connection = listed["group"]["externalAuditEventDestinations"]
    assert [e["node"]["name"] for e in connection["edges"]] == ["splunk"]
    assert connection["edges"][0]["node"]["headers"]["nodes"] == [{"key": "Authorization"}]
    assert connection["pageInfo"] == {
        "hasNextPage": False,
        "endCursor": connection["edges"][0]["cursor"],
    }
    assert client.schema is not None
    assert client.schema.get_type("ExternalAuditEventDestination") is not None


async def test_python_gitlab_graphql_client_creates_and_lists_destinations(
    live_server: LiveServer, services: Services, make_account: MakeAccount
) -> None:
    owner = await make_account("alice")
    await services.namespaces.create_group(Actor(owner.user), path="my-group", name="My Group")
    async with gitlab.AsyncGraphQL(
        live_server.url, token=owner.token, timeout=CLIENT_TIMEOUT, max_retries=0
    ) as gl:
        # python-gitlab sends documents without variables, as its documentation shows.
        created = await gl.execute(
            """mutation { externalAuditEventDestinationCreate(input: {
                 destinationUrl: "https://siem.example.com/pg", groupPath: "my-group"}) {
                 errors externalAuditEventDestination { name verificationToken } } }"""
        )
        listed = await gl.execute(
            """{ group(fullPath: "my-group") { externalAuditEventDestinations {
                 edges { node { name } } } } }"""
        )
    destination = created["externalAuditEventDestinationCreate"]["externalAuditEventDestination"]
    assert destination["name"].startswith("Destination_")
    assert len(destination["verificationToken"]) == 24
    edges = listed["group"]["externalAuditEventDestinations"]["edges"]
    assert [e["node"]["name"] for e in edges] == [destination["name"]]
