"""An expired membership is no membership: not for reading, not for destinations, not for
replay; and a membership cannot be given an expiry date in the past."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest
import sqlalchemy as sa

from auditwire.domain.events import utcnow
from auditwire.domain.namespaces import AccessLevel, Group
from auditwire.services.container import Services
from auditwire.services.context import Actor
from auditwire.store.schema import members
from tests.conftest import Account, MakeAccount
from tests.integration.api.conftest import API, add_member
from tests.integration.graphql.conftest import (
    RESOURCE_NOT_AVAILABLE,
    RunGraphQL,
    destination_gid,
    graphql,
)

__all__ = ["graphql"]

PAST = {"expires_at": "2020-01-01"}
DESTINATIONS = """
query { group(fullPath: "acme") {
  externalAuditEventDestinations { nodes { verificationToken } } } }
"""
CREATE = """
mutation { externalAuditEventDestinationCreate(input: {
  destinationUrl: "https://siem.example.com/other", groupPath: "acme"}) {
  errors externalAuditEventDestination { id } } }
"""
DESTROY = """
mutation($id: AuditEventsExternalAuditEventDestinationID!) {
  externalAuditEventDestinationDestroy(input: {id: $id}) { errors } }
"""
REPLAY = """
mutation($id: AuditEventsStreamingDestinationID!) {
  auditEventsStreamingDestinationReplay(input: {destinationId: $id,
    createdAfter: "2020-01-01T00:00:00Z", createdBefore: "2030-01-01T00:00:00Z"}) {
  errors queuedCount } }
"""


def today() -> date:
    return utcnow().date()


async def _set_expiry(services: Services, user_id: int, expires_at: date) -> None:
    """Age a membership as time would: the API refuses a date in the past."""
    async with services.store.write() as conn:
        await conn.execute(
            members.update().where(members.c.user_id == user_id).values(expires_at=expires_at)
        )


@pytest.fixture
async def acme(services: Services, make_account: MakeAccount) -> tuple[Account, Group, int]:
    """Group `acme` with subgroup `acme/team`, owned by `founder`, with a destination."""
    founder = await make_account("founder")
    actor = Actor(founder.user)
    group = await services.namespaces.create_group(actor, path="acme", name="Acme")
    await services.namespaces.create_group(actor, path="team", name="Team", parent_ref="acme")
    destination = await services.destinations.create_group_destination(
        actor, group_path="acme", destination_url="https://siem.example.com/acme"
    )
    return founder, group, destination.id


@pytest.fixture
async def former_owner(
    services: Services, make_account: MakeAccount, acme: tuple[Account, Group, int]
) -> Account:
    """An Owner of `acme` whose membership ends when today begins."""
    founder, group, _ = acme
    account = await make_account("former")
    await services.namespaces.add_member(
        Actor(founder.user), group, user_id=account.user.id, access_level=AccessLevel.OWNER
    )
    await _set_expiry(services, account.user.id, today())
    return account


async def test_expired_owner_cannot_see_or_manage_destinations(
    graphql: RunGraphQL,
    services: Services,
    acme: tuple[Account, Group, int],
    former_owner: Account,
) -> None:
    _, _, destination_id = acme
    variables = {"id": destination_gid(destination_id)}
    listed = await graphql(DESTINATIONS, as_=former_owner)
    assert listed["data"]["group"] is None
    for document, field, run_with in [
        (CREATE, "externalAuditEventDestinationCreate", None),
        (REPLAY, "auditEventsStreamingDestinationReplay", variables),
        (DESTROY, "externalAuditEventDestinationDestroy", variables),
    ]:
        body = await graphql(document, run_with, as_=former_owner)
        assert body["data"][field] is None, field
        assert [e["message"] for e in body["errors"]] == [RESOURCE_NOT_AVAILABLE], field

    # The same membership a day later in its life is an Owner's again.
    await _set_expiry(services, former_owner.user.id, today() + timedelta(days=1))
    listed = await graphql(DESTINATIONS, as_=former_owner)
    tokens = listed["data"]["group"]["externalAuditEventDestinations"]["nodes"]
    assert [len(t["verificationToken"]) for t in tokens] == [24]
    destroyed = await graphql(DESTROY, variables, as_=former_owner)
    assert destroyed["data"]["externalAuditEventDestinationDestroy"] == {"errors": []}


async def test_expired_owner_reads_no_group_events_and_inherits_nothing(
    client: httpx.AsyncClient,
    services: Services,
    acme: tuple[Account, Group, int],
    former_owner: Account,
) -> None:
    founder, group, _ = acme
    assert (await client.get(f"{API}/groups/acme", headers=former_owner.headers)).status_code == 404
    events = await client.get(f"{API}/groups/{group.id}/audit_events", headers=former_owner.headers)
    assert events.status_code == 404
    listed = await client.get(f"{API}/groups", headers=former_owner.headers)
    assert listed.json() == []

    # A current Developer membership below still counts; the expired Owner above does not.
    team = await services.namespaces.group(Actor(founder.user), "acme/team")
    await services.namespaces.add_member(
        Actor(founder.user),
        team[0],
        user_id=former_owner.user.id,
        access_level=AccessLevel.DEVELOPER,
    )
    team_events = await client.get(
        f"{API}/groups/{team[0].id}/audit_events", headers=former_owner.headers
    )
    assert team_events.status_code == 200
    assert team_events.json() == []  # a Developer sees only their own events
    founder_view = await client.get(
        f"{API}/groups/{team[0].id}/audit_events", headers=founder.headers
    )
    assert len(founder_view.json()) > 0


async def test_expired_project_membership_gives_no_access(
    client: httpx.AsyncClient, services: Services, acme: tuple[Account, Group, int], bob: Account
) -> None:
    founder, _, _ = acme
    project = await services.namespaces.create_project(
        Actor(founder.user), namespace_ref="acme/team", path="app", name="App"
    )
    added = await add_member(client, founder, f"projects/{project.id}", bob.user.id, 40)
    assert added.status_code == 201
    seen = await client.get(f"{API}/projects/{project.id}", headers=bob.headers)
    assert seen.status_code == 200
    await _set_expiry(services, bob.user.id, today() - timedelta(days=1))
    gone = await client.get(f"{API}/projects/{project.id}", headers=bob.headers)
    assert gone.status_code == 404
    listed = await client.get(f"{API}/projects", headers=bob.headers)
    assert listed.json() == []


@pytest.mark.parametrize("kind", ["groups", "projects"])
async def test_a_date_in_the_past_is_refused_on_create_and_update(
    client: httpx.AsyncClient,
    services: Services,
    acme: tuple[Account, Group, int],
    bob: Account,
    kind: str,
) -> None:
    founder, group, _ = acme
    if kind == "groups":
        source = f"groups/{group.id}"
    else:
        project = await services.namespaces.create_project(
            Actor(founder.user), namespace_ref="acme", path="site", name="Site"
        )
        source = f"projects/{project.id}"
    yesterday = (today() - timedelta(days=1)).isoformat()
    refused = {"message": {"expires_at": ["cannot be a date in the past"]}}
    created = await client.post(
        f"{API}/{source}/members",
        json={"user_id": bob.user.id, "access_level": 30, "expires_at": yesterday},
        headers=founder.headers,
    )
    assert (created.status_code, created.json()) == (400, refused)
    assert (
        await client.get(f"{API}/{source}/members/{bob.user.id}", headers=founder.headers)
    ).status_code == 404

    tomorrow = (today() + timedelta(days=1)).isoformat()
    created = await client.post(
        f"{API}/{source}/members",
        json={"user_id": bob.user.id, "access_level": 30, "expires_at": tomorrow},
        headers=founder.headers,
    )
    assert created.status_code == 201 and created.json()["expires_at"] == tomorrow
    updated = await client.put(
        f"{API}/{source}/members/{bob.user.id}",
        json={"access_level": 40, "expires_at": yesterday},
        headers=founder.headers,
    )
    assert (updated.status_code, updated.json()) == (400, refused)
    kept = await client.get(f"{API}/{source}/members/{bob.user.id}", headers=founder.headers)
    assert kept.json()["access_level"] == 30 and kept.json()["expires_at"] == tomorrow
    async with services.store.read() as conn:
        stored = await conn.execute(
            sa.select(members.c.expires_at).where(members.c.user_id == bob.user.id)
        )
        assert [row.expires_at for row in stored] == [date.fromisoformat(tomorrow)]
