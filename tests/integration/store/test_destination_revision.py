"""The destinations' revision moves with every write of a destination's sending settings (so a
worker's copy can be told stale) and stays put for the workers' own health writes (so a
failing destination does not make every worker load the destinations at each claim)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from auditwire.domain.delivery import Claimed, Result, Settle
from auditwire.domain.destinations import Header
from auditwire.domain.retry import CircuitPolicy
from auditwire.services.container import Services
from auditwire.store import deliveries as deliveries_store
from auditwire.store import destinations as dest_store
from auditwire.store.destination_revision import destinations_revision
from tests.integration.streaming.factories import add_destination, record, user_event

POLICY = CircuitPolicy(failures=1, probe_base=60.0, probe_max=60.0)
Write = Callable[[AsyncConnection], Awaitable[object]]


async def revision(services: Services) -> int | None:
    async with services.store.read() as conn:
        return await destinations_revision(conn)


async def moves_by(services: Services, write: Write) -> int:
    """How far `write`, in a transaction of its own, moves the revision."""
    before = await revision(services)
    assert before is not None
    async with services.store.write() as conn:
        await write(conn)
    after = await revision(services)
    assert after is not None
    return after - before


async def test_every_write_of_a_destination_moves_the_revision_once(services: Services) -> None:
    assert await revision(services) == 0  # as the migration leaves it
    destination = await add_destination(services, "http://127.0.0.1:9/hook")
    assert await revision(services) == 1
    now = datetime.now(UTC)
    box = services.box
    headers: list[Header] = []

    async def add_header(conn: AsyncConnection) -> None:
        headers.append(
            await dest_store.insert_header(
                conn,
                box,
                destination_id=destination.id,
                key="X-Team",
                value="a",
                active=True,
                now=now,
            )
        )

    async def change_header(conn: AsyncConnection) -> None:
        await dest_store.update_header(conn, box, headers[0].id, key=None, value="b", active=None)

    async def remove_header(conn: AsyncConnection) -> None:
        await dest_store.delete_header(conn, headers[0].id)

    writes: list[Write] = [
        lambda conn: dest_store.update_destination(conn, destination.id, now, name="renamed"),
        lambda conn: dest_store.set_secret_token(conn, box, destination.id, "t" * 24, now),
        add_header,
        change_header,
        remove_header,
        lambda conn: dest_store.replace_headers(
            conn, box, destination.id, {"X-A": ("1", True)}, now
        ),
        lambda conn: dest_store.delete_destination(conn, destination.id),
    ]
    assert [await moves_by(services, write) for write in writes] == [1] * len(writes)


async def test_health_writes_leave_the_revision_and_a_410_moves_it(services: Services) -> None:
    destination = await add_destination(services, "http://127.0.0.1:9/hook")
    await record(services, [user_event() for _ in range(2)])
    now = datetime.now(UTC)
    async with services.store.write() as conn:
        first, second = await deliveries_store.claim(conn, {destination.id: 2}, now, now)

    def settle(item: Claimed, outcome: Settle) -> Write:
        result = Result(item.delivery_id, destination.id, outcome, now, "HTTP 503")
        return lambda conn: deliveries_store.record_outcomes(conn, [result], now, POLICY)

    assert await moves_by(services, settle(first, Settle.RETRY)) == 0  # its circuit opens
    assert await moves_by(services, settle(second, Settle.GONE)) == 1  # deactivated
