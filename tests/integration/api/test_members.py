from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest

from tests.conftest import Account
from tests.integration.api.conftest import (
    API,
    add_member,
    create_group,
    create_project,
    event_names,
)


@pytest.fixture(params=["groups", "projects"])
async def source(request: pytest.FixtureRequest, client: httpx.AsyncClient, alice: Account) -> str:
    """`groups/<id>` or `projects/<id>`, owned by alice: members work the same on both."""
    group = await create_group(client, alice, "acme")
    if request.param == "groups":
        return f"groups/{group['id']}"
    project = await create_project(client, alice, group["id"], "site")
    return f"projects/{project['id']}"


async def test_member_lifecycle_records_created_updated_destroyed(
    client: httpx.AsyncClient, alice: Account, bob: Account, source: str
) -> None:
    added = await add_member(client, alice, source, bob.user.id, 30)
    assert added.status_code == 201
    assert added.json()["username"] == "bob" and added.json()["access_level"] == 30
    single = await client.get(f"{API}/{source}/members/{bob.user.id}", headers=alice.headers)
    assert single.json()["access_level"] == 30
    updated = await client.put(
        f"{API}/{source}/members/{bob.user.id}", json={"access_level": 20}, headers=alice.headers
    )
    assert updated.status_code == 200 and updated.json()["access_level"] == 20
    removed = await client.delete(f"{API}/{source}/members/{bob.user.id}", headers=alice.headers)
    assert removed.status_code == 204
    gone = await client.get(f"{API}/{source}/members/{bob.user.id}", headers=alice.headers)
    assert gone.status_code == 404
    names = await event_names(client, alice, f"{API}/{source}/audit_events")
    assert names[:3] == ["member_destroyed", "member_updated", "member_created"]


async def test_member_can_be_added_by_username_and_form_body(
    client: httpx.AsyncClient, alice: Account, bob: Account, source: str
) -> None:
    response = await client.post(
        f"{API}/{source}/members",
        data={"username": "bob", "access_level": "20"},
        headers=alice.headers,
    )
    assert response.status_code == 201 and response.json()["id"] == bob.user.id


async def test_bad_member_input_is_a_clear_4xx(
    client: httpx.AsyncClient, alice: Account, bob: Account, source: str
) -> None:
    bad_level = await add_member(client, alice, source, bob.user.id, 35)
    assert bad_level.status_code == 400
    assert "access_level" in bad_level.json()["error"]
    unknown_user = await add_member(client, alice, source, 999999, 30)
    assert unknown_user.status_code == 404
    missing = await client.post(
        f"{API}/{source}/members", json={"user_id": bob.user.id}, headers=alice.headers
    )
    assert missing.status_code == 400 and missing.json() == {"error": "access_level is missing"}
    await add_member(client, alice, source, bob.user.id, 30)
    duplicate = await add_member(client, alice, source, bob.user.id, 30)
    assert duplicate.status_code == 409
    not_member = await client.put(
        f"{API}/{source}/members/999999", json={"access_level": 30}, headers=alice.headers
    )
    assert not_member.status_code == 404


async def test_developer_cannot_manage_members(
    client: httpx.AsyncClient, alice: Account, bob: Account, root: Account, source: str
) -> None:
    await add_member(client, alice, source, bob.user.id, 30)
    refused = await add_member(client, bob, source, root.user.id, 10)
    assert refused.status_code == 403
    names = await event_names(client, alice, f"{API}/{source}/audit_events")
    assert names.count("member_created") == 1


async def test_maintainer_cannot_grant_owner(
    client: httpx.AsyncClient, alice: Account, bob: Account, root: Account, source: str
) -> None:
    await add_member(client, alice, source, bob.user.id, 40)
    refused = await add_member(client, bob, source, root.user.id, 50)
    assert refused.status_code == 403
    allowed = await add_member(client, bob, source, root.user.id, 40)
    assert allowed.status_code == 201


async def test_last_group_owner_cannot_be_removed(
    client: httpx.AsyncClient, alice: Account
) -> None:
    group = await create_group(client, alice, "acme")
    response = await client.delete(
        f"{API}/groups/{group['id']}/members/{alice.user.id}", headers=alice.headers
    )
    assert response.status_code == 403
    names = await event_names(client, alice, f"{API}/groups/{group['id']}/audit_events")
    assert "member_destroyed" not in names


async def test_last_group_owner_cannot_be_demoted_but_one_of_two_can(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    group = await create_group(client, alice, "acme")
    member_url = f"{API}/groups/{group['id']}/members"
    refused = await client.put(
        f"{member_url}/{alice.user.id}", json={"access_level": 40}, headers=alice.headers
    )
    assert refused.status_code == 403
    assert "at least one owner" in refused.json()["message"]
    names = await event_names(client, alice, f"{API}/groups/{group['id']}/audit_events")
    assert "member_updated" not in names

    assert (
        await add_member(client, alice, f"groups/{group['id']}", bob.user.id, 50)
    ).status_code == 201
    demoted = await client.put(
        f"{member_url}/{alice.user.id}", json={"access_level": 40}, headers=alice.headers
    )
    assert demoted.status_code == 200
    assert demoted.json()["access_level"] == 40


async def test_group_owner_is_owner_of_subgroups_by_inheritance(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    top = await create_group(client, alice, "acme")
    await add_member(client, alice, f"groups/{top['id']}", bob.user.id, 50)
    sub = await create_group(client, alice, "platform", parent_id=top["id"])
    created = await create_group(client, bob, "deep", parent_id=sub["id"])
    assert created["full_path"] == "acme/platform/deep"


async def test_members_all_includes_inherited_members_once_at_their_highest_level(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    top = await create_group(client, alice, "acme")
    sub = await create_group(client, alice, "platform", parent_id=top["id"])
    project = await create_project(client, alice, sub["id"], "api")
    await add_member(client, alice, f"groups/{top['id']}", bob.user.id, 20)
    await add_member(client, alice, f"projects/{project['id']}", bob.user.id, 40)
    direct = await client.get(f"{API}/groups/{sub['id']}/members", headers=alice.headers)
    inherited = await client.get(f"{API}/groups/{sub['id']}/members/all", headers=alice.headers)
    in_project = await client.get(
        f"{API}/projects/{project['id']}/members/all", headers=alice.headers
    )
    assert [m["username"] for m in direct.json()] == ["alice"]  # the subgroup's creator
    assert [(m["username"], m["access_level"]) for m in inherited.json()] == [
        ("alice", 50),
        ("bob", 20),
    ]
    assert [(m["username"], m["access_level"]) for m in in_project.json()] == [
        ("alice", 50),
        ("bob", 40),
    ]
    assert in_project.headers["X-Total"] == "2"


async def test_update_without_expires_at_keeps_the_expiry_and_empty_clears_it(
    client: httpx.AsyncClient, alice: Account, bob: Account, source: str
) -> None:
    """GitLab's `PUT .../members/:user_id` changes only what it is given: an absent
    `expires_at` keeps the expiry (rights are never extended by omission); an empty one
    clears it."""
    expiry = (date.today() + timedelta(days=30)).isoformat()
    member_url = f"{API}/{source}/members/{bob.user.id}"
    added = await client.post(
        f"{API}/{source}/members",
        json={"user_id": bob.user.id, "access_level": 30, "expires_at": expiry},
        headers=alice.headers,
    )
    assert added.status_code == 201 and added.json()["expires_at"] == expiry
    kept = await client.put(member_url, json={"access_level": 20}, headers=alice.headers)
    assert kept.status_code == 200
    assert kept.json()["access_level"] == 20 and kept.json()["expires_at"] == expiry
    stored = await client.get(member_url, headers=alice.headers)
    assert stored.json()["expires_at"] == expiry
    cleared = await client.put(
        member_url, data={"access_level": "20", "expires_at": ""}, headers=alice.headers
    )
    assert cleared.status_code == 200 and cleared.json()["expires_at"] is None
    assert (await client.get(member_url, headers=alice.headers)).json()["expires_at"] is None
    await client.put(
        member_url, json={"access_level": 20, "expires_at": expiry}, headers=alice.headers
    )
    nulled = await client.put(
        member_url, json={"access_level": 20, "expires_at": None}, headers=alice.headers
    )
    assert nulled.status_code == 200 and nulled.json()["expires_at"] is None
