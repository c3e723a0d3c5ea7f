"""Helpers for the REST tests: build groups, projects and members through the API itself."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from auditwire.domain.tokens import Scope
from tests.conftest import Account, MakeAccount

API = "/api/v4"


async def create_group(
    client: httpx.AsyncClient, who: Account, path: str, parent_id: int | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"name": path.title(), "path": path}
    if parent_id is not None:
        body["parent_id"] = parent_id
    response = await client.post(f"{API}/groups", json=body, headers=who.headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def create_project(
    client: httpx.AsyncClient, who: Account, namespace_id: int, path: str
) -> dict[str, Any]:
    response = await client.post(
        f"{API}/projects",
        json={"name": path.title(), "path": path, "namespace_id": namespace_id},
        headers=who.headers,
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def add_member(
    client: httpx.AsyncClient, who: Account, source: str, user_id: int, level: int
) -> httpx.Response:
    return await client.post(
        f"{API}/{source}/members",
        json={"user_id": user_id, "access_level": level},
        headers=who.headers,
    )


async def event_names(client: httpx.AsyncClient, who: Account, url: str) -> list[str]:
    separator = "&" if "?" in url else "?"
    response = await client.get(f"{url}{separator}per_page=100", headers=who.headers)
    assert response.status_code == 200, response.text
    return [item["event_name"] for item in response.json()]


@pytest.fixture
async def alice(make_account: MakeAccount) -> Account:
    """A user without administrator rights."""
    return await make_account("alice")


@pytest.fixture
async def bob(make_account: MakeAccount) -> Account:
    return await make_account("bob")


@pytest.fixture
async def reader(make_account: MakeAccount) -> Account:
    """An administrator whose token has only the read_api scope."""
    return await make_account("reader", admin=True, scopes=(Scope.READ_API,))
