"""Every `web_url` the REST API returns opens a page once signed in."""

from __future__ import annotations

import httpx

from tests.conftest import Account
from tests.integration.web.test_sign_in import _sign_in


async def test_web_urls_of_groups_projects_and_users_open(
    client: httpx.AsyncClient, root: Account
) -> None:
    await client.put(
        f"/api/v4/users/{root.user.id}", headers=root.headers, data={"password": "root-password"}
    )
    group = (
        await client.post(
            "/api/v4/groups", headers=root.headers, data={"path": "acme", "name": "Acme"}
        )
    ).json()
    project = (
        await client.post(
            "/api/v4/projects",
            headers=root.headers,
            data={"path": "api", "namespace_id": group["id"]},
        )
    ).json()
    await _sign_in(client, "root", "root-password")
    for url in (
        group["web_url"],
        project["web_url"],
        f"http://auditwire.test/{root.user.username}",
    ):
        page = await client.get(url.removeprefix("http://auditwire.test"))
        assert page.status_code == 200, url
    assert (await client.get("/acme/missing")).status_code == 404
    assert (await client.get("/api/v4/nothing-here")).json() == {"message": "404 Not Found"}
