"""Existing destinations, headers and filters survive the move to destination kinds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from auditwire.config import async_database_url
from auditwire.crypto import SecretBox
from auditwire.domain.owner import Owner
from auditwire.services import events as event_service
from auditwire.store import Store
from auditwire.store import destinations as dest_store
from auditwire.store.batch_claims import claim_batch
from auditwire.store.migrate import is_current, migrate
from auditwire.store.schema import deliveries, streaming_destinations
from tests.databases import PostgresTemplate
from tests.integration.streaming.factories import user_event

NOW = datetime(2026, 11, 1, tzinfo=UTC)
KEY = b"k" * 32


async def _empty_store(backend: str, request: object, tmp_path: Path) -> tuple[Store, str]:
    if backend == "sqlite":
        return Store(async_database_url(f"sqlite:///{tmp_path / 'old.db'}")), ""
    template: PostgresTemplate = request.getfixturevalue("postgres_template")  # type: ignore[attr-defined]
    import asyncpg

    from tests.databases import POSTGRES_ADMIN_URL, _with_database

    name = f"auditwire_old_{tmp_path.name[-12:].replace('-', '_')}".lower()
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    del template
    return Store(async_database_url(_with_database(name))), name


async def _drop(name: str) -> None:
    import asyncpg

    from tests.databases import POSTGRES_ADMIN_URL

    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def test_destinations_headers_and_filters_keep_their_ids_and_values(
    backend: str, request: object, tmp_path: Path
) -> None:
    store, name = await _empty_store(backend, request, tmp_path)
    box = SecretBox(KEY)
    try:
        await migrate(store, "0001")
        async with store.write() as conn:
            run = conn.execute
            await run(
                sa.text(
                    "INSERT INTO namespaces (id, path, name, full_path, description, created_at)"
                    " VALUES (7, 'acme', 'Acme', 'acme', '', :now),"
                    " (8, 'team', 'Team', 'acme/team', '', :now)"
                ),
                {"now": NOW},
            )
            await run(sa.text("UPDATE namespaces SET parent_id = 7 WHERE id = 8"))
            insert = sa.text(
                "INSERT INTO streaming_destinations (id, group_id, name, destination_url,"
                " verification_token, signing_secret, active, created_at, updated_at,"
                " consecutive_failures, circuit_state)"
                " VALUES (:id, :group_id, :name, :url, :token, :secret, :active, :now, :now,"
                " 0, 'closed')"
            )
            await run(
                insert,
                {
                    "id": 41,
                    "group_id": 7,
                    "name": "siem",
                    "url": "https://siem.example.com/in",
                    "token": box.encrypt("token-of-the-group-01"),
                    "secret": box.encrypt("whsec_Z3JvdXA="),
                    "active": True,
                    "now": NOW,
                },
            )
            await run(
                insert,
                {
                    "id": 42,
                    "group_id": None,
                    "name": "everything",
                    "url": "https://all.example.com/",
                    "token": box.encrypt("token-of-the-instance"),
                    "secret": box.encrypt("whsec_aW5zdGFuY2U="),
                    "active": False,
                    "now": NOW,
                },
            )
            await run(
                sa.text(
                    "INSERT INTO streaming_headers (id, destination_id, key, value, active,"
                    " created_at) VALUES (5, 41, 'Authorization', :value, true, :now)"
                ),
                {"value": box.encrypt("Bearer abc"), "now": NOW},
            )
            await run(
                sa.text(
                    "INSERT INTO streaming_event_type_filters (id, destination_id,"
                    " audit_event_type, created_at) VALUES (9, 41, 'group_created', :now)"
                ),
                {"now": NOW},
            )
            await run(
                sa.text(
                    "INSERT INTO streaming_namespace_filters (id, destination_id, group_id,"
                    " created_at) VALUES (3, 41, 8, :now)"
                ),
                {"now": NOW},
            )

        await migrate(store)
        assert await is_current(store)

        async with store.read() as conn:
            group = await dest_store.get_destination(conn, box, 41)
            instance = await dest_store.get_destination(conn, box, 42)
            listed = await dest_store.list_destinations(conn, box, Owner.instance())
        assert group is not None and instance is not None
        assert (group.category, group.config, group.secret_token) == (
            "http",
            {"url": "https://siem.example.com/in"},
            "token-of-the-group-01",
        )
        assert group.signing_secret == "whsec_Z3JvdXA="
        assert [(h.id, h.key, h.value, h.active) for h in group.headers] == [
            (5, "Authorization", "Bearer abc", True)
        ]
        assert group.view_config["headers"] == {
            "Authorization": {"value": "Bearer abc", "active": True}
        }
        assert [(f.id, f.audit_event_type) for f in group.event_type_filters] == [
            (9, "group_created")
        ]
        assert [(f.id, f.namespace_path) for f in group.namespace_filters] == [(3, "acme/team")]
        assert (instance.group_id, instance.active, instance.destination_url) == (
            None,
            False,
            "https://all.example.com/",
        )
        assert [d.id for d in listed] == [42]
    finally:
        await store.close()
        if name:
            await _drop(name)


async def test_pending_deliveries_and_their_leases_survive_the_lease_outside_the_index(
    backend: str, request: object, tmp_path: Path
) -> None:
    store, name = await _empty_store(backend, request, tmp_path)
    box = SecretBox(KEY)
    now = datetime.now(UTC)
    held_until = now + timedelta(minutes=5)
    try:
        await migrate(store, "0005")
        async with store.write() as conn:
            # As 0005's schema holds it (the store's own writes are of the newest schema).
            created = await conn.execute(
                sa.insert(streaming_destinations)
                .values(
                    group_id=None,
                    name="siem",
                    category="http",
                    config={"url": "https://siem.example.com/in"},
                    secret_token=box.encrypt("token-of-the-instance"),
                    signing_secret=box.encrypt(""),
                    active=True,
                    created_at=now,
                    updated_at=now,
                )
                .returning(streaming_destinations.c.id)
            )
            destination = int(created.scalar_one())
            await event_service.record(conn, [user_event(n) for n in range(1, 6)])
            # A claim made before the upgrade: the lease's end in both columns.
            await conn.execute(
                sa.update(deliveries)
                .where(deliveries.c.id == sa.select(sa.func.min(deliveries.c.id)).scalar_subquery())
                .values(next_attempt_at=held_until, lease_expires_at=held_until, attempts=1)
            )
        async with store.read() as conn:
            before = {r.id: tuple(r) for r in await conn.execute(sa.select(deliveries))}

        await migrate(store)
        assert await is_current(store)

        async with store.read() as conn:
            after = {r.id: tuple(r) for r in await conn.execute(sa.select(deliveries))}
        assert after == before and len(after) == 5
        (leased_id,) = [i for i, row in after.items() if row[4] == 1]  # attempts
        at, after_lease = datetime.now(UTC), held_until + timedelta(seconds=1)
        async with store.write() as conn:
            due = await claim_batch(conn, destination, 10, at, at + timedelta(hours=1))
            again = await claim_batch(conn, destination, 10, at, at + timedelta(hours=1))
            later = await claim_batch(
                conn, destination, 10, after_lease, after_lease + timedelta(minutes=1)
            )
        assert sorted(i.delivery_id for i in due) == sorted(set(after) - {leased_id})
        assert again == []
        assert [i.delivery_id for i in later] == [leased_id]  # due once its old lease ended
        if backend == "postgresql":
            async with store.read() as conn:
                options = await conn.scalar(
                    sa.text("SELECT reloptions FROM pg_class WHERE relname = 'deliveries'")
                )
            assert options == ["fillfactor=50"]
    finally:
        await store.close()
        if name:
            await _drop(name)
