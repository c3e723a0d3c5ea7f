"""Requests too large, too deep or in the wrong format get a JSON 4xx before anything runs;
a database that cannot be reached is a JSON 503, never a traceback."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson

from auditwire.api.app import create_app
from auditwire.api.limits import MAX_BODY_BYTES, TOO_LARGE
from auditwire.config import Settings
from auditwire.store import Store
from tests.conftest import Account
from tests.integration.api.conftest import API, create_group
from tests.integration.api.test_ingest import INGEST, event
from tests.live import free_port

MEGABYTE = 1024 * 1024
JSON = {"content-type": "application/json"}
THREAD_JOIN_TIMEOUT = 5.0  # seconds for a thread of the failed store to end


class Chunks:
    """A request body of `count` chunks of a megabyte, counting how many were read."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.read = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.count):
            self.read += 1
            yield b" " * MEGABYTE


async def test_a_declared_hundred_megabytes_is_refused_before_a_byte_is_read(
    client: httpx.AsyncClient, root: Account
) -> None:
    for url in (INGEST, f"{API}/groups", "/api/graphql"):
        body = Chunks(100)
        response = await client.post(
            url,
            content=body,
            headers={**root.headers, **JSON, "content-length": str(100 * MEGABYTE)},
        )
        assert response.status_code == 413, url
        assert body.read == 0, url
        assert response.json() in (
            {"message": TOO_LARGE},
            {"errors": [{"message": "Query too large"}]},
        )


async def test_an_undeclared_body_is_read_only_to_the_cap(
    client: httpx.AsyncClient, root: Account
) -> None:
    body = Chunks(100)
    response = await client.post(INGEST, content=body, headers={**root.headers, **JSON})
    assert response.status_code == 413
    assert response.json() == {"message": TOO_LARGE}
    assert body.read <= MAX_BODY_BYTES // MEGABYTE + 1


async def test_ingestion_takes_json_only(client: httpx.AsyncClient, root: Account) -> None:
    await create_group(client, root, "acme")
    for content_type in ("text/plain", "application/x-www-form-urlencoded", ""):
        response = await client.post(
            INGEST,
            content=orjson.dumps(event()),
            headers={**root.headers, "content-type": content_type},
        )
        assert response.status_code == 415, content_type
        assert response.json() == {
            "error": f"The provided content-type '{content_type}' is not supported."
        }
    taken = await client.post(
        INGEST,
        content=orjson.dumps(event()),
        headers={**root.headers, "content-type": "application/json; charset=utf-8"},
    )
    assert taken.status_code == 201


async def test_details_nested_a_thousand_deep_are_refused(
    client: httpx.AsyncClient, root: Account
) -> None:
    await create_group(client, root, "acme")
    # Built as text: JSON encoders refuse to nest this deep themselves.
    details = b'{"d":' * 1_000 + b"{}" + b"}" * 1_000
    body = orjson.dumps(event(details="DETAILS")).replace(b'"DETAILS"', details)
    response = await client.post(INGEST, content=body, headers={**root.headers, **JSON})
    assert response.status_code == 400
    assert response.json() == {"error": "details is nested too deeply (maximum is 30 levels)"}
    listed = await client.get(f"{API}/audit_events", headers=root.headers)
    assert all(e["details"].get("custom_message") != "deploying" for e in listed.json())


async def test_unicode_digits_as_an_id_are_not_found(
    client: httpx.AsyncClient, root: Account
) -> None:
    await create_group(client, root, "acme")
    for url in ("/groups/%C2%B9", "/projects/%D9%A3", "/users/%C2%B2", "/audit_events/%C2%B9"):
        response = await client.get(f"{API}{url}", headers=root.headers)
        assert response.status_code == 404, url
        assert response.json()["message"]


def _unreachable(backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        folder = tmp_path / "not-a-file.db"
        folder.mkdir()
        return f"sqlite+aiosqlite:///{folder}"
    return f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/auditwire"


async def test_an_unreachable_database_is_a_json_503(
    settings: Settings, backend: str, tmp_path: Path
) -> None:
    threads_before = set(threading.enumerate())
    store = Store(_unreachable(backend, tmp_path))
    app = create_app(settings, store)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://auditwire.test") as http:
            token = {"PRIVATE-TOKEN": "awpat-whatever"}
            for method, url in (
                ("GET", f"{API}/groups"),
                ("POST", INGEST),
                ("GET", f"{API}/users/1"),
            ):
                response = await http.request(method, url, headers={**token, **JSON}, json={})
                assert response.status_code == 503, (url, response.text)
                assert response.json()["message"]
            graphql = await http.post(
                "/api/graphql", json={"query": "{ currentUser { id } }"}, headers=token
            )
            assert graphql.status_code == 503
            assert graphql.json()["errors"][0]["message"]
            anonymous = await http.post(
                "/api/graphql", json={"query": '{ group(fullPath: "a") { id } }'}
            )
            assert anonymous.json()["errors"][0]["message"]
            ready = await http.get("/-/readiness")
            assert ready.status_code == 503
    finally:
        await store.close()
        # aiosqlite stops the thread of a connection that failed to open without waiting for
        # it; let those threads end while this test's loop can still take their answers.
        for thread in set(threading.enumerate()) - threads_before:
            await asyncio.to_thread(thread.join, THREAD_JOIN_TIMEOUT)
