from __future__ import annotations

import re

import asyncpg
import httpx
import pytest

from auditwire.api.app import create_app
from auditwire.config import Settings
from auditwire.store import Store
from tests.conftest import Account
from tests.databases import POSTGRES_ADMIN_URL


async def test_health_answers_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/-/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readiness_reports_each_check(client: httpx.AsyncClient) -> None:
    response = await client.get("/-/readiness")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["db_check"] == [{"status": "ok"}]
    assert body["migrations_check"] == [{"status": "ok"}]


async def test_readiness_fails_while_the_database_is_unreachable(settings: Settings) -> None:
    unreachable = settings.model_copy(
        update={"database_url": "postgresql://postgres@127.0.0.1:1/nothing"}
    )
    store = Store(unreachable.resolved_database_url)
    app = create_app(unreachable, store)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            response = await http.get("/-/readiness")
    finally:
        await store.close()
    assert response.status_code == 503
    assert response.json()["status"] == "failed"
    assert response.json()["db_check"][0]["status"] == "failed"


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_readiness_recovers_when_postgresql_accepts_connections_again(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    name = settings.database_url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
        down = await client.get("/-/readiness")
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        up = await client.get("/-/readiness")
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()
    assert down.status_code == 503
    assert up.status_code == 200


def _sample(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        match = re.match(rf"^{name}\{{(.*)\}} (\S+)$", line)
        if match and ",".join(sorted(match.group(1).split(","))) == wanted:
            return float(match.group(2))
    return 0.0


async def test_metrics_count_requests_by_route_template(
    client: httpx.AsyncClient, root: Account
) -> None:
    before = _sample(
        (await client.get("/-/metrics")).text,
        "auditwire_http_requests_total",
        method="GET",
        route="/api/v4/user",
        status="200",
    )
    for _ in range(3):
        assert (await client.get("/api/v4/user", headers=root.headers)).status_code == 200
    response = await client.get("/-/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    after = _sample(
        response.text,
        "auditwire_http_requests_total",
        method="GET",
        route="/api/v4/user",
        status="200",
    )
    assert after - before == 3
