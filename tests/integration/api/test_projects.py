from __future__ import annotations

import httpx

from tests.conftest import Account
from tests.integration.api.conftest import (
    API,
    add_member,
    create_group,
    create_project,
    event_names,
)


async def test_project_has_gitlab_shape_and_records_project_created(
    client: httpx.AsyncClient, alice: Account
) -> None:
    group = await create_group(client, alice, "acme")
    project = await create_project(client, alice, group["id"], "site")
    assert project["path_with_namespace"] == "acme/site"
    assert project["namespace"]["id"] == group["id"]
    assert project["namespace"]["full_path"] == "acme"
    assert project["web_url"].endswith("/acme/site")
    fetched = await client.get(f"{API}/projects/acme%2Fsite", headers=alice.headers)
    assert fetched.status_code == 200 and fetched.json()["id"] == project["id"]
    names = await event_names(client, alice, f"{API}/projects/{project['id']}/audit_events")
    assert names == ["project_created"]


async def test_project_path_defaults_from_its_name(
    client: httpx.AsyncClient, alice: Account
) -> None:
    group = await create_group(client, alice, "acme")
    response = await client.post(
        f"{API}/projects",
        json={"name": "My Site", "namespace_id": group["id"]},
        headers=alice.headers,
    )
    assert response.status_code == 201
    assert response.json()["path_with_namespace"] == "acme/my-site"


async def test_project_creation_needs_a_namespace_and_a_valid_path(
    client: httpx.AsyncClient, alice: Account
) -> None:
    group = await create_group(client, alice, "acme")
    no_namespace = await client.post(f"{API}/projects", json={"name": "x"}, headers=alice.headers)
    assert no_namespace.status_code == 400
    assert no_namespace.json() == {"error": "namespace_id is missing"}
    bad_path = await client.post(
        f"{API}/projects",
        json={"path": "bad path", "namespace_id": group["id"]},
        headers=alice.headers,
    )
    assert bad_path.status_code == 400
    unknown = await client.post(
        f"{API}/projects", json={"path": "p", "namespace_id": 999999}, headers=alice.headers
    )
    assert unknown.status_code == 404


async def test_duplicate_project_path_is_refused(client: httpx.AsyncClient, alice: Account) -> None:
    group = await create_group(client, alice, "acme")
    await create_project(client, alice, group["id"], "site")
    again = await client.post(
        f"{API}/projects", json={"path": "site", "namespace_id": group["id"]}, headers=alice.headers
    )
    assert again.status_code == 400  # GitLab's validation error: the attribute, its messages
    assert again.json() == {"message": {"path": ["has already been taken"]}}
    subgroup_clash = await client.post(
        f"{API}/groups",
        json={"name": "Site", "path": "site", "parent_id": group["id"]},
        headers=alice.headers,
    )
    assert subgroup_clash.status_code == 400


async def test_developer_cannot_create_projects_but_maintainer_can(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    group = await create_group(client, alice, "acme")
    await add_member(client, alice, f"groups/{group['id']}", bob.user.id, 30)
    refused = await client.post(
        f"{API}/projects", json={"path": "p", "namespace_id": group["id"]}, headers=bob.headers
    )
    assert refused.status_code == 403
    await client.put(
        f"{API}/groups/{group['id']}/members/{bob.user.id}",
        json={"access_level": 40},
        headers=alice.headers,
    )
    allowed = await client.post(
        f"{API}/projects", json={"path": "p", "namespace_id": group["id"]}, headers=bob.headers
    )
    assert allowed.status_code == 201


async def test_projects_of_other_users_are_invisible(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    group = await create_group(client, alice, "acme")
    project = await create_project(client, alice, group["id"], "site")
    assert (await client.get(f"{API}/projects", headers=bob.headers)).json() == []
    hidden = await client.get(f"{API}/projects/{project['id']}", headers=bob.headers)
    assert hidden.status_code == 404
    assert hidden.json() == {"message": "404 Project Not Found"}


async def test_project_delete_needs_owner_and_is_recorded(
    client: httpx.AsyncClient, alice: Account, bob: Account, root: Account
) -> None:
    group = await create_group(client, alice, "acme")
    project = await create_project(client, alice, group["id"], "site")
    await add_member(client, alice, f"projects/{project['id']}", bob.user.id, 40)
    refused = await client.delete(f"{API}/projects/{project['id']}", headers=bob.headers)
    assert refused.status_code == 403
    deleted = await client.delete(f"{API}/projects/acme%2Fsite", headers=alice.headers)
    assert deleted.status_code == 202
    missing = await client.get(f"{API}/projects/{project['id']}", headers=alice.headers)
    assert missing.status_code == 404
    names = await event_names(
        client, root, f"{API}/audit_events?entity_type=Project&entity_id={project['id']}"
    )
    assert names == ["project_destroyed", "member_created", "project_created"]
