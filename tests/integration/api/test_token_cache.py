from __future__ import annotations

import httpx

from auditwire.api.app import create_app
from auditwire.api.rest.token_cache import TokenCache
from auditwire.config import Settings
from auditwire.services.container import Services
from auditwire.store import Store
from tests.conftest import Account

EVENT = {"event_type": "ping", "entity_type": "Instance", "author": {"name": "monitor"}}


async def test_revoked_token_stops_ingesting_once_the_cache_entry_expires(
    settings: Settings, store: Store, services: Services, root: Account
) -> None:
    app = create_app(settings, store)
    now = [0.0]
    app.state.ingest_token_cache = TokenCache(ttl=5.0, clock=lambda: now[0])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://auditwire.test") as http:
        first = await http.post("/api/v4/audit_events", json=EVENT, headers=root.headers)
        assert first.status_code == 201
        async with services.store.write() as conn:
            await conn.exec_driver_sql("UPDATE personal_access_tokens SET revoked = true")
        now[0] = 4.9  # within the TTL the cached lookup still stands: the documented bound
        cached = await http.post("/api/v4/audit_events", json=EVENT, headers=root.headers)
        assert cached.status_code == 201
        now[0] = 5.1
        refused = await http.post("/api/v4/audit_events", json=EVENT, headers=root.headers)
        assert refused.status_code == 401
        # Other routes never use the cache.
        assert (await http.get("/api/v4/user", headers=root.headers)).status_code == 401


async def test_ingestion_refuses_unknown_and_missing_tokens(
    settings: Settings, store: Store, root: Account
) -> None:
    app = create_app(settings, store)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://auditwire.test") as http:
        for _ in range(2):
            response = await http.post(
                "/api/v4/audit_events", json=EVENT, headers={"PRIVATE-TOKEN": "awpat-unknown"}
            )
            assert response.status_code == 401
        missing = await http.post("/api/v4/audit_events", json=EVENT)
        assert missing.status_code == 401
