from __future__ import annotations

import httpx

from tests.conftest import Account
from tests.integration.api.conftest import API, create_group, create_project, event_names


async def test_creating_a_group_makes_the_creator_owner_and_records_group_created(
    client: httpx.AsyncClient, alice: Account
) -> None:
    group = await create_group(client, alice, "acme")
    assert group["full_path"] == "acme" and group["parent_id"] is None
    assert group["web_url"].endswith("/groups/acme")
    members = await client.get(f"{API}/groups/{group['id']}/members", headers=alice.headers)
    assert [(m["username"], m["access_level"]) for m in members.json()] == [("alice", 50)]
    names = await event_names(client, alice, f"{API}/groups/{group['id']}/audit_events")
    assert names == ["group_created"]


async def test_subgroups_are_found_by_id_and_by_url_encoded_full_path(
    client: httpx.AsyncClient, alice: Account
) -> None:
    top = await create_group(client, alice, "acme")
    sub = await create_group(client, alice, "platform", parent_id=top["id"])
    assert sub["full_path"] == "acme/platform" and sub["parent_id"] == top["id"]
    by_path = await client.get(f"{API}/groups/acme%2Fplatform", headers=alice.headers)
    assert by_path.status_code == 200 and by_path.json()["id"] == sub["id"]
    listed = await client.get(f"{API}/groups/acme/subgroups", headers=alice.headers)
    assert [g["full_path"] for g in listed.json()] == ["acme/platform"]
    members = await client.get(f"{API}/groups/acme%2Fplatform/members", headers=alice.headers)
    assert members.status_code == 200


async def test_group_projects_list_everything_below_the_group(
    client: httpx.AsyncClient, alice: Account
) -> None:
    top = await create_group(client, alice, "acme")
    sub = await create_group(client, alice, "platform", parent_id=top["id"])
    await create_project(client, alice, top["id"], "site")
    await create_project(client, alice, sub["id"], "api")
    listed = await client.get(f"{API}/groups/{top['id']}/projects", headers=alice.headers)
    assert sorted(p["path_with_namespace"] for p in listed.json()) == [
        "acme/platform/api",
        "acme/site",
    ]
    assert listed.headers["X-Total"] == "2"


async def test_group_list_shows_only_groups_the_user_belongs_to(
    client: httpx.AsyncClient, alice: Account, bob: Account, root: Account
) -> None:
    await create_group(client, alice, "acme")
    await create_group(client, bob, "globex")
    mine = await client.get(f"{API}/groups", headers=alice.headers)
    everything = await client.get(f"{API}/groups", headers=root.headers)
    assert [g["path"] for g in mine.json()] == ["acme"]
    assert sorted(g["path"] for g in everything.json()) == ["acme", "globex"]


async def test_others_groups_are_not_found(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    group = await create_group(client, alice, "acme")
    response = await client.get(f"{API}/groups/{group['id']}", headers=bob.headers)
    assert response.status_code == 404
    assert response.json() == {"message": "404 Group Not Found"}


async def test_unknown_group_ids_and_paths_are_404(
    client: httpx.AsyncClient, alice: Account
) -> None:
    for ref in ("999999", "no-such-group", "acme%2Fnope"):
        response = await client.get(f"{API}/groups/{ref}", headers=alice.headers)
        assert response.status_code == 404, ref
        assert response.json()["message"] == "404 Group Not Found"


async def test_invalid_group_paths_are_rejected_with_400(
    client: httpx.AsyncClient, alice: Account
) -> None:
    for path in ("-dash", "has space", "ends.git", "a/b", ""):
        response = await client.post(
            f"{API}/groups", json={"name": "X", "path": path}, headers=alice.headers
        )
        assert response.status_code == 400, path
        assert "path" in response.json()["error"]
    missing = await client.post(f"{API}/groups", json={"name": "X"}, headers=alice.headers)
    assert missing.status_code == 400
    assert missing.json() == {"error": "path is missing"}


async def test_duplicate_group_path_is_refused_and_nothing_is_recorded(
    client: httpx.AsyncClient, alice: Account, root: Account
) -> None:
    await create_group(client, alice, "acme")
    again = await client.post(
        f"{API}/groups", json={"name": "Other", "path": "ACME"}, headers=alice.headers
    )
    assert again.status_code == 400  # as GitLab answers a group that failed to save
    assert again.json() == {"message": 'Failed to save group {:path=>["has already been taken"]}'}
    names = await event_names(client, root, f"{API}/audit_events?entity_type=Group")
    assert names == ["group_created"]


async def test_group_accepts_form_encoded_bodies(client: httpx.AsyncClient, alice: Account) -> None:
    response = await client.post(
        f"{API}/groups", data={"name": "Form", "path": "form"}, headers=alice.headers
    )
    assert response.status_code == 201
    assert response.json()["full_path"] == "form"


async def test_owner_renames_group_and_the_change_is_recorded(
    client: httpx.AsyncClient, alice: Account
) -> None:
    group = await create_group(client, alice, "acme")
    response = await client.put(
        f"{API}/groups/acme", json={"name": "Acme Inc"}, headers=alice.headers
    )
    assert response.status_code == 200 and response.json()["name"] == "Acme Inc"
    names = await event_names(client, alice, f"{API}/groups/{group['id']}/audit_events")
    assert names == ["group_name_updated", "group_created"]


async def test_read_api_token_cannot_create_or_change_groups(
    client: httpx.AsyncClient, alice: Account, reader: Account
) -> None:
    await create_group(client, alice, "acme")
    create = await client.post(
        f"{API}/groups", json={"name": "R", "path": "r"}, headers=reader.headers
    )
    update = await client.put(f"{API}/groups/acme", json={"name": "X"}, headers=reader.headers)
    delete = await client.delete(f"{API}/groups/acme", headers=reader.headers)
    assert create.status_code == update.status_code == delete.status_code == 403
    readable = await client.get(f"{API}/groups/acme", headers=reader.headers)
    assert readable.status_code == 200


async def test_maintainer_cannot_delete_group_but_owner_can(
    client: httpx.AsyncClient, alice: Account, bob: Account, root: Account
) -> None:
    group = await create_group(client, alice, "acme")
    await client.post(
        f"{API}/groups/acme/members",
        json={"user_id": bob.user.id, "access_level": 40},
        headers=alice.headers,
    )
    refused = await client.delete(f"{API}/groups/acme", headers=bob.headers)
    assert refused.status_code == 403
    deleted = await client.delete(f"{API}/groups/acme", headers=alice.headers)
    assert deleted.status_code == 202
    gone = await client.get(f"{API}/groups/{group['id']}", headers=alice.headers)
    assert gone.status_code == 404
    names = await event_names(client, root, f"{API}/audit_events?entity_id={group['id']}")
    assert "group_destroyed" in names


async def test_requests_without_a_token_get_401(client: httpx.AsyncClient) -> None:
    for method, url in (("GET", "/groups"), ("POST", "/groups"), ("GET", "/projects")):
        response = await client.request(method, f"{API}{url}")
        assert response.status_code == 401, url
