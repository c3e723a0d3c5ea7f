"""GraphQL helpers: run a document as an account, and a group with a destination to work on."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from auditwire.domain.destinations import Destination
from auditwire.domain.namespaces import Group, Project
from auditwire.services.container import Services
from auditwire.services.context import Actor
from tests.conftest import Account, MakeAccount

ENDPOINT = "/api/graphql"
RESOURCE_NOT_AVAILABLE = (
    "The resource that you are attempting to access does not exist "
    "or you don't have permission to perform this action"
)
MUTATION_NOT_ALLOWED = "You do not have access to this mutation."

RunGraphQL = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def graphql(client: httpx.AsyncClient) -> RunGraphQL:
    """`await graphql(document, variables, as_=account)`: the JSON body of a 200 response."""

    async def run(
        document: str, variables: dict[str, Any] | None = None, *, as_: Account | None = None
    ) -> dict[str, Any]:
        headers = as_.headers if as_ else {}
        response = await client.post(
            ENDPOINT, json={"query": document, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    return run


def gid(model: str, record_id: int) -> str:
    return f"gid://gitlab/{model}/{record_id}"


def destination_gid(record_id: int) -> str:
    return gid("AuditEvents::ExternalAuditEventDestination", record_id)


def top_level_error(body: dict[str, Any]) -> str:
    assert body.get("errors"), body
    message: str = body["errors"][0]["message"]
    return message


@dataclass(frozen=True)
class Acme:
    """Top-level group on Ultimate owned by `owner`, with subgroup, project and destination."""

    owner: Account
    group: Group
    subgroup: Group
    project: Project
    destination: Destination


@pytest.fixture
async def acme(services: Services, make_account: MakeAccount) -> Acme:
    owner = await make_account("owner")
    actor = Actor(owner.user)
    group = await services.namespaces.create_group(actor, path="acme", name="Acme")
    subgroup = await services.namespaces.create_group(
        actor, path="team", name="Team", parent_ref="acme"
    )
    project = await services.namespaces.create_project(
        actor, namespace_ref="acme/team", path="app", name="App"
    )
    destination = await services.destinations.create_group_destination(
        actor, group_path="acme", destination_url="https://siem.example.com/acme", name="siem"
    )
    return Acme(owner, group, subgroup, project, destination)
