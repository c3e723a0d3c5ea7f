from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from auditwire.store import Store
from auditwire.store.migrate import is_current
from auditwire.store.schema import metadata


async def test_migrations_from_empty_give_the_schema_the_code_expects(store: Store) -> None:
    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async with store.read() as conn:
        diff = await conn.run_sync(differences)
    assert diff == []
    assert await is_current(store)
