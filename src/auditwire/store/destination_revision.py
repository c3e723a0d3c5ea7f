"""The destinations' revision (`schema.streaming_destination_revision`, one row): every write
of a destination's sending settings increments it in its transaction, and each claim reads it
in its own, so a worker knows whether its copy of the destinations is older than the events it
claimed. The row's lock orders the increments as their transactions commit."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from auditwire.store.database import driver_connection
from auditwire.store.schema import streaming_destination_revision

_TABLE = streaming_destination_revision.name
_BUMP = f"UPDATE {_TABLE} SET revision = revision + 1 WHERE id = 1"
_READ = f"SELECT revision FROM {_TABLE} WHERE id = 1"


async def bump_revision(conn: AsyncConnection) -> None:
    """A destination was created, changed (its headers too), deactivated or deleted."""
    await conn.exec_driver_sql(_BUMP)


async def destinations_revision(conn: AsyncConnection) -> int | None:
    """Read with each claim, so straight through the driver: through SQLAlchemy's statement
    path it cost two to three times as much."""
    if conn.dialect.name == "postgresql":
        driver = await driver_connection(conn)
        found = await driver.fetchval(_READ)
    else:
        found = (await conn.exec_driver_sql(_READ)).scalar()
    return None if found is None else int(found)
