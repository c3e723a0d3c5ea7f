from __future__ import annotations

import httpx

from tests.conftest import Account
from tests.integration.api.conftest import API, create_group, event_names


async def test_admin_changes_plan_and_the_change_is_recorded(
    client: httpx.AsyncClient, root: Account, alice: Account
) -> None:
    group = await create_group(client, alice, "acme")
    response = await client.put(
        f"{API}/namespaces/{group['id']}", json={"plan": "premium"}, headers=root.headers
    )
    assert response.status_code == 200
    assert response.json()["plan"] == "premium"
    shown = await client.get(f"{API}/namespaces/acme", headers=alice.headers)
    assert shown.json()["plan"] == "premium"
    names = await event_names(client, alice, f"{API}/groups/{group['id']}/audit_events")
    assert names == ["namespace_plan_updated", "group_created"]


async def test_only_admins_with_api_scope_change_plans(
    client: httpx.AsyncClient, alice: Account, reader: Account
) -> None:
    group = await create_group(client, alice, "acme")
    owner = await client.put(
        f"{API}/namespaces/{group['id']}", json={"plan": "free"}, headers=alice.headers
    )
    read_only = await client.put(
        f"{API}/namespaces/{group['id']}", json={"plan": "free"}, headers=reader.headers
    )
    assert owner.status_code == read_only.status_code == 403
    plan = (await client.get(f"{API}/namespaces/acme", headers=alice.headers)).json()["plan"]
    assert plan == "ultimate"


async def test_bad_plan_requests_are_a_clear_4xx(
    client: httpx.AsyncClient, root: Account, alice: Account
) -> None:
    top = await create_group(client, alice, "acme")
    sub = await create_group(client, alice, "sub", parent_id=top["id"])
    unknown_plan = await client.put(
        f"{API}/namespaces/{top['id']}", json={"plan": "gold"}, headers=root.headers
    )
    assert unknown_plan.status_code == 400
    subgroup = await client.put(
        f"{API}/namespaces/{sub['id']}", json={"plan": "free"}, headers=root.headers
    )
    assert subgroup.status_code == 400
    missing = await client.put(f"{API}/namespaces/{top['id']}", json={}, headers=root.headers)
    assert missing.status_code == 400 and missing.json() == {"error": "plan is missing"}
    unknown = await client.put(
        f"{API}/namespaces/999999", json={"plan": "free"}, headers=root.headers
    )
    assert unknown.status_code == 404
