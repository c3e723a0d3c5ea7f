"""Pages as root sees them: root signed in through the form, with the group `acme`."""

from __future__ import annotations

import httpx

from tests.conftest import Account
from tests.integration.web.test_sign_in import _sign_in


async def root_signed_in_with_acme(client: httpx.AsyncClient, root: Account) -> None:
    await client.put(
        f"/api/v4/users/{root.user.id}", headers=root.headers, data={"password": "root-password"}
    )
    await client.post("/api/v4/groups", headers=root.headers, data={"path": "acme", "name": "A"})
    await _sign_in(client, "root", "root-password")


CREATE_HTTP = (
    'mutation { externalAuditEventDestinationCreate(input: {groupPath: "acme", '
    'destinationUrl: "https://siem.example.com/hook", name: "siem"}) '
    "{ errors externalAuditEventDestination { id } } }"
)


async def http_destination_of_acme(client: httpx.AsyncClient, root: Account) -> str:
    """An HTTP destination of acme made through GraphQL: its numeric id, as pages show it."""
    made = await client.post("/api/graphql", headers=root.headers, json={"query": CREATE_HTTP})
    payload = made.json()["data"]["externalAuditEventDestinationCreate"]
    gid: str = payload["externalAuditEventDestination"]["id"]
    return gid.rsplit("/", 1)[1]
