from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Account
from tests.integration.api.conftest import API, add_member, create_group, create_project

INGEST = f"{API}/audit_events"


async def ingest(
    client: httpx.AsyncClient, root: Account, entity_type: str, path: str, **fields: Any
) -> dict[str, Any]:
    body = {
        "event_type": "custom",
        "entity_type": entity_type,
        "entity_path": path,
        "author": {"id": root.user.id},
        **fields,
    }
    response = await client.post(INGEST, json=body, headers=root.headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def test_group_owner_sees_all_group_events_developer_only_own(
    client: httpx.AsyncClient, alice: Account, bob: Account, root: Account
) -> None:
    group = await create_group(client, alice, "acme")
    await add_member(client, alice, f"groups/{group['id']}", bob.user.id, 30)
    by_bob = await ingest(client, root, "Group", "acme", author={"id": bob.user.id})
    url = f"{API}/groups/{group['id']}/audit_events"
    owner_view = await client.get(url, headers=alice.headers)
    developer_view = await client.get(url, headers=bob.headers)
    assert [e["event_name"] for e in owner_view.json()] == [
        "custom",
        "member_created",
        "group_created",
    ]
    assert [e["id"] for e in developer_view.json()] == [by_bob["id"]]
    others = owner_view.json()[1]["id"]
    hidden = await client.get(f"{url}/{others}", headers=bob.headers)
    assert hidden.status_code == 404
    own = await client.get(f"{url}/{by_bob['id']}", headers=bob.headers)
    assert own.status_code == 200 and own.json()["author_id"] == bob.user.id


async def test_project_maintainer_sees_all_project_events_developer_only_own(
    client: httpx.AsyncClient, alice: Account, bob: Account, root: Account
) -> None:
    group = await create_group(client, alice, "acme")
    project = await create_project(client, alice, group["id"], "site")
    source = f"projects/{project['id']}"
    await add_member(client, alice, source, bob.user.id, 30)
    url = f"{API}/{source}/audit_events"
    assert (await client.get(url, headers=bob.headers)).json() == []
    await client.put(
        f"{API}/{source}/members/{bob.user.id}", json={"access_level": 40}, headers=alice.headers
    )
    names = [e["event_name"] for e in (await client.get(url, headers=bob.headers)).json()]
    assert names == ["member_updated", "member_created", "project_created"]


async def test_group_events_do_not_include_subgroup_or_project_events(
    client: httpx.AsyncClient, alice: Account
) -> None:
    group = await create_group(client, alice, "acme")
    await create_group(client, alice, "sub", parent_id=group["id"])
    await create_project(client, alice, group["id"], "site")
    listed = await client.get(f"{API}/groups/{group['id']}/audit_events", headers=alice.headers)
    assert {(e["entity_type"], e["entity_id"]) for e in listed.json()} == {("Group", group["id"])}


async def test_event_of_another_group_is_not_found_through_this_group(
    client: httpx.AsyncClient, alice: Account
) -> None:
    acme = await create_group(client, alice, "acme")
    globex = await create_group(client, alice, "globex")
    event = (
        await client.get(f"{API}/groups/{globex['id']}/audit_events", headers=alice.headers)
    ).json()[0]
    wrong = await client.get(
        f"{API}/groups/{acme['id']}/audit_events/{event['id']}", headers=alice.headers
    )
    assert wrong.status_code == 404
    assert wrong.json() == {"message": "404 Audit Event Not Found"}
    for bad in ("999999", "abc"):
        response = await client.get(
            f"{API}/groups/{acme['id']}/audit_events/{bad}", headers=alice.headers
        )
        assert response.status_code == 404


async def test_instance_events_are_for_admins_only(
    client: httpx.AsyncClient, alice: Account, root: Account
) -> None:
    await create_group(client, alice, "acme")
    refused = await client.get(INGEST, headers=alice.headers)
    refused_one = await client.get(f"{INGEST}/1", headers=alice.headers)
    assert refused.status_code == refused_one.status_code == 403
    listed = await client.get(INGEST, headers=root.headers)
    assert listed.status_code == 200
    first = listed.json()[-1]
    single = await client.get(f"{INGEST}/{first['id']}", headers=root.headers)
    assert single.json() == first


async def test_instance_list_filters_by_entity(
    client: httpx.AsyncClient, alice: Account, root: Account
) -> None:
    group = await create_group(client, alice, "acme")
    await create_project(client, alice, group["id"], "site")
    groups_only = await client.get(
        INGEST, params={"entity_type": "Group", "entity_id": group["id"]}, headers=root.headers
    )
    assert [e["event_name"] for e in groups_only.json()] == ["group_created"]
    projects_only = await client.get(
        INGEST, params={"entity_type": "Project"}, headers=root.headers
    )
    assert [e["event_name"] for e in projects_only.json()] == ["project_created"]
    bad = await client.get(INGEST, params={"entity_type": "Planet"}, headers=root.headers)
    assert bad.status_code == 400


async def test_created_after_and_before_filter_inclusively(
    client: httpx.AsyncClient, root: Account
) -> None:
    group = await create_group(client, root, "acme")
    for day in ("2024-01-01", "2024-02-01", "2024-03-01"):
        await ingest(client, root, "Group", "acme", created_at=f"{day}T12:00:00Z")
    url = f"{API}/groups/{group['id']}/audit_events"
    window = await client.get(
        url,
        params={"created_after": "2024-01-15", "created_before": "2024-03-01T12:00:00Z"},
        headers=root.headers,
    )
    assert [e["created_at"][:10] for e in window.json()] == ["2024-03-01", "2024-02-01"]
    offset = await client.get(
        url, params={"created_before": "2024-01-01T13:00:00+01:00"}, headers=root.headers
    )
    assert [e["created_at"][:10] for e in offset.json()] == ["2024-01-01"]
    invalid = await client.get(url, params={"created_after": "soon"}, headers=root.headers)
    assert invalid.status_code == 400 and invalid.json() == {"error": "created_after is invalid"}


async def test_pagination_headers_follow_gitlab(client: httpx.AsyncClient, root: Account) -> None:
    group = await create_group(client, root, "acme")
    for _ in range(4):
        await ingest(client, root, "Group", "acme")
    url = f"{API}/groups/{group['id']}/audit_events"
    page = await client.get(url, params={"per_page": 2, "page": 2}, headers=root.headers)
    assert len(page.json()) == 2
    assert page.headers["X-Total"] == "5"
    assert page.headers["X-Total-Pages"] == "3"
    assert page.headers["X-Page"] == "2"
    assert page.headers["X-Per-Page"] == "2"
    assert page.headers["X-Next-Page"] == "3" and page.headers["X-Prev-Page"] == "1"
    assert 'rel="next"' in page.headers["Link"] and 'rel="prev"' in page.headers["Link"]
    everything = await client.get(url, params={"per_page": 100}, headers=root.headers)
    ids = [e["id"] for e in everything.json()]
    assert ids == sorted(ids, reverse=True)
    assert [e["id"] for e in page.json()] == ids[2:4]
    invalid = await client.get(url, params={"page": 0}, headers=root.headers)
    assert invalid.status_code == 400


async def test_non_members_cannot_read_group_or_project_events(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    group = await create_group(client, alice, "acme")
    project = await create_project(client, alice, group["id"], "site")
    for url in (f"groups/{group['id']}", f"projects/{project['id']}", "groups/nope"):
        response = await client.get(f"{API}/{url}/audit_events", headers=bob.headers)
        assert response.status_code == 404, url
