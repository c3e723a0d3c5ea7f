from __future__ import annotations

from datetime import timedelta

import httpx

from auditwire.domain.events import utcnow
from auditwire.domain.tokens import Scope
from auditwire.services.container import Services
from tests.conftest import Account


async def test_current_user_answers_to_private_token_and_bearer(
    client: httpx.AsyncClient, root: Account
) -> None:
    by_header = await client.get("/api/v4/user", headers=root.headers)
    by_bearer = await client.get("/api/v4/user", headers={"Authorization": f"Bearer {root.token}"})
    assert by_header.status_code == by_bearer.status_code == 200
    assert by_header.json()["username"] == by_bearer.json()["username"] == "root"
    assert by_header.json()["is_admin"] is True


async def test_missing_and_unknown_tokens_get_401(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v4/user")
    unknown = await client.get("/api/v4/user", headers={"PRIVATE-TOKEN": "awpat-nope"})
    assert missing.status_code == unknown.status_code == 401
    assert missing.json() == {"message": "401 Unauthorized"}


async def test_expired_token_gets_401(
    client: httpx.AsyncClient, services: Services, root: Account
) -> None:
    token = await services.users.create_token(
        None,
        root.user.id,
        name="short",
        scopes=(Scope.API,),
        expires_at=(utcnow() + timedelta(days=1)).date(),
    )
    assert (
        await client.get("/api/v4/user", headers={"PRIVATE-TOKEN": token.value})
    ).status_code == 200
    async with services.store.write() as conn:
        await conn.exec_driver_sql(
            "UPDATE personal_access_tokens SET expires_at = '2000-01-01' WHERE name = 'short'"
        )
    expired = await client.get("/api/v4/user", headers={"PRIVATE-TOKEN": token.value})
    assert expired.status_code == 401
