from __future__ import annotations

import httpx

from tests.conftest import Account
from tests.integration.api.conftest import API, event_names


async def test_admin_creates_user_and_token_and_both_are_recorded(
    client: httpx.AsyncClient, root: Account
) -> None:
    created = await client.post(
        f"{API}/users",
        json={"username": "carol", "email": "carol@example.com", "name": "Carol"},
        headers=root.headers,
    )
    assert created.status_code == 201
    carol = created.json()
    assert carol["username"] == "carol" and carol["is_admin"] is False
    token = await client.post(
        f"{API}/users/{carol['id']}/personal_access_tokens",
        json={"name": "ci", "scopes": ["read_api"]},
        headers=root.headers,
    )
    assert token.status_code == 201
    assert token.json()["token"].startswith("awpat-")
    assert token.json()["scopes"] == ["read_api"]
    me = await client.get(f"{API}/user", headers={"PRIVATE-TOKEN": token.json()["token"]})
    assert me.json()["username"] == "carol"
    names = await event_names(
        client, root, f"{API}/audit_events?entity_type=User&entity_id={carol['id']}"
    )
    assert names == ["personal_access_token_created", "user_created"]


async def test_token_scopes_accept_form_arrays(client: httpx.AsyncClient, root: Account) -> None:
    response = await client.post(
        f"{API}/users/{root.user.id}/personal_access_tokens",
        data={"name": "form", "scopes[]": ["api", "read_api"]},
        headers=root.headers,
    )
    assert response.status_code == 201
    assert response.json()["scopes"] == ["api", "read_api"]


async def test_non_admins_cannot_create_users_or_tokens(
    client: httpx.AsyncClient, alice: Account
) -> None:
    user = await client.post(
        f"{API}/users", json={"username": "x", "email": "x@example.com"}, headers=alice.headers
    )
    token = await client.post(
        f"{API}/users/{alice.user.id}/personal_access_tokens",
        json={"name": "t", "scopes": ["api"]},
        headers=alice.headers,
    )
    assert user.status_code == token.status_code == 403


async def test_read_api_admin_token_cannot_create_users(
    client: httpx.AsyncClient, reader: Account
) -> None:
    response = await client.post(
        f"{API}/users", json={"username": "x", "email": "x@example.com"}, headers=reader.headers
    )
    assert response.status_code == 403
    assert "insufficient_scope" in response.json()["message"]


async def test_bad_user_input_is_a_clear_4xx(
    client: httpx.AsyncClient, root: Account, alice: Account
) -> None:
    missing = await client.post(f"{API}/users", json={"username": "x"}, headers=root.headers)
    assert missing.status_code == 400 and missing.json() == {"error": "email is missing"}
    bad_email = await client.post(
        f"{API}/users", json={"username": "x", "email": "nope"}, headers=root.headers
    )
    assert bad_email.status_code == 400
    duplicate = await client.post(
        f"{API}/users", json={"username": "ALICE", "email": "new@example.com"}, headers=root.headers
    )
    assert duplicate.status_code == 409
    bad_scope = await client.post(
        f"{API}/users/{alice.user.id}/personal_access_tokens",
        json={"name": "t", "scopes": ["sudo"]},
        headers=root.headers,
    )
    assert bad_scope.status_code == 400
    past = await client.post(
        f"{API}/users/{alice.user.id}/personal_access_tokens",
        json={"name": "t", "scopes": ["api"], "expires_at": "2000-01-01"},
        headers=root.headers,
    )
    assert past.status_code == 400
    unknown = await client.post(
        f"{API}/users/999999/personal_access_tokens",
        json={"name": "t", "scopes": ["api"]},
        headers=root.headers,
    )
    assert unknown.status_code == 404


async def test_users_list_is_for_admins_and_filters_by_username_and_paginates(
    client: httpx.AsyncClient, root: Account, alice: Account, bob: Account
) -> None:
    refused = await client.get(f"{API}/users", headers=alice.headers)
    assert refused.status_code == 403
    one = await client.get(f"{API}/users", params={"username": "bob"}, headers=root.headers)
    assert [u["username"] for u in one.json()] == ["bob"]
    page = await client.get(f"{API}/users", params={"per_page": 2}, headers=root.headers)
    assert len(page.json()) == 2 and page.headers["X-Total"] == "3"
    assert page.headers["X-Next-Page"] == "2"
    assert "email" in page.json()[0]


async def test_a_user_is_shown_to_others_without_private_fields(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    response = await client.get(f"{API}/users/{bob.user.id}", headers=alice.headers)
    assert response.status_code == 200
    assert response.json()["username"] == "bob" and "email" not in response.json()
    missing = await client.get(f"{API}/users/999999", headers=alice.headers)
    assert missing.status_code == 404
