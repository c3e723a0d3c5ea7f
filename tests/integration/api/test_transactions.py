"""A change and its audit event commit together or not at all."""

from __future__ import annotations

from collections.abc import Sequence

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from auditwire.domain.events import AuditEvent, NewAuditEvent
from auditwire.errors import StorageError
from auditwire.services import events as events_service
from tests.conftest import Account
from tests.integration.api.conftest import API, create_group

AUDIT = f"{API}/audit_events"


def fail_after_recording(monkeypatch: pytest.MonkeyPatch, module: str) -> None:
    """Record the events for real, then fail the transaction as a crash or a lost disk would."""

    async def record_then_fail(
        conn: AsyncConnection, events: Sequence[NewAuditEvent]
    ) -> list[AuditEvent]:
        await events_service.record(conn, events)
        raise StorageError("database error: simulated failure")

    monkeypatch.setattr(f"{module}.record", record_then_fail)


async def total_events(client: httpx.AsyncClient, root: Account) -> int:
    return int((await client.get(AUDIT, headers=root.headers)).headers["X-Total"])


async def test_group_is_not_created_when_its_event_is_not_committed(
    client: httpx.AsyncClient, root: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = await total_events(client, root)
    fail_after_recording(monkeypatch, "auditwire.services.namespaces")
    response = await client.post(
        f"{API}/groups", json={"name": "Acme", "path": "acme"}, headers=root.headers
    )
    assert response.status_code == 503
    monkeypatch.undo()
    assert (await client.get(f"{API}/groups/acme", headers=root.headers)).status_code == 404
    assert await total_events(client, root) == before


async def test_member_is_not_added_when_its_event_is_not_committed(
    client: httpx.AsyncClient, root: Account, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = await create_group(client, root, "acme")
    before = await total_events(client, root)
    fail_after_recording(monkeypatch, "auditwire.services.namespaces")
    response = await client.post(
        f"{API}/groups/{group['id']}/members",
        json={"user_id": alice.user.id, "access_level": 30},
        headers=root.headers,
    )
    assert response.status_code == 503
    monkeypatch.undo()
    member = await client.get(
        f"{API}/groups/{group['id']}/members/{alice.user.id}", headers=root.headers
    )
    assert member.status_code == 404
    assert await total_events(client, root) == before


async def test_user_is_not_created_when_its_event_is_not_committed(
    client: httpx.AsyncClient, root: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = await total_events(client, root)
    fail_after_recording(monkeypatch, "auditwire.services.users")
    response = await client.post(
        f"{API}/users", json={"username": "carol", "email": "c@example.com"}, headers=root.headers
    )
    assert response.status_code == 503
    monkeypatch.undo()
    listed = await client.get(f"{API}/users", params={"username": "carol"}, headers=root.headers)
    assert listed.json() == []
    assert await total_events(client, root) == before


async def test_ingested_events_are_not_answered_when_the_commit_fails(
    client: httpx.AsyncClient, root: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    await create_group(client, root, "acme")
    before = await total_events(client, root)
    fail_after_recording(monkeypatch, "auditwire.services.ingest")
    body = {"event_type": "x", "entity_type": "Group", "entity_path": "acme", "author": {"id": 1}}
    response = await client.post(AUDIT, json=[body, body], headers=root.headers)
    assert response.status_code == 503
    monkeypatch.undo()
    assert await total_events(client, root) == before
