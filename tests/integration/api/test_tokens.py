from __future__ import annotations

from datetime import timedelta

import httpx

from auditwire.domain.events import utcnow
from auditwire.domain.tokens import Scope
from auditwire.services.container import Services
from tests.conftest import Account
from tests.integration.api.conftest import API


async def test_expired_and_revoked_tokens_are_refused_on_every_route(
    client: httpx.AsyncClient, services: Services, root: Account
) -> None:
    tomorrow = (utcnow() + timedelta(days=1)).date()
    expiring = await services.users.create_token(
        None, root.user.id, name="expiring", scopes=(Scope.API,), expires_at=tomorrow
    )
    revoked = await services.users.create_token(
        None, root.user.id, name="revoked", scopes=(Scope.API,)
    )
    async with services.store.write() as conn:
        await conn.exec_driver_sql(
            "UPDATE personal_access_tokens SET expires_at = '2000-01-01' WHERE name = 'expiring'"
        )
        await conn.exec_driver_sql(
            "UPDATE personal_access_tokens SET revoked = true WHERE name = 'revoked'"
        )
    event = {"event_type": "x", "entity_type": "Instance", "author": {"name": "a"}}
    for token in (expiring.value, revoked.value):
        headers = {"PRIVATE-TOKEN": token}
        group = await client.post(f"{API}/groups", json={"name": "A", "path": "a"}, headers=headers)
        ingest = await client.post(f"{API}/audit_events", json=event, headers=headers)
        listing = await client.get(f"{API}/audit_events", headers=headers)
        assert group.status_code == ingest.status_code == listing.status_code == 401
        assert group.json() == {"message": "401 Unauthorized"}
    assert (await client.get(f"{API}/groups/a", headers=root.headers)).status_code == 404
