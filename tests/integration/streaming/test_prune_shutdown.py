"""Stopping the delivery log pruner while its transaction is open: no error escapes, nothing
is half done, and the store (and its outbox commit hook) works on afterwards."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from auditwire.domain.delivery_log import AttemptOutcome, AttemptRecord
from auditwire.domain.events import utcnow
from auditwire.services.container import Services
from auditwire.store import Store
from auditwire.store import attempts as attempts_store
from auditwire.store import deliveries as deliveries_store
from auditwire.store.database import driver_connection
from auditwire.store.schema import delivery_attempts
from auditwire.streaming import prune
from auditwire.streaming.prune import AttemptPruner
from tests.integration.streaming.factories import add_destination, eventually, record, user_event

LOCK_KEY = 872_341  # the advisory lock the blocked statement waits for on PostgreSQL
RELEASE_LIMIT = 30.0  # seconds a blocked SQLite statement waits at most for its release


class DriverBlock:
    """A statement that, run inside a transaction, waits in the database driver until released:
    on PostgreSQL for an advisory lock another connection holds; on SQLite in a function that
    waits for a flag. A task cancelled there is cancelled inside a driver call."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._holder: AsyncConnection | None = None
        self._released = threading.Event()
        self.entered = asyncio.Event()

    async def hold(self) -> None:
        if not self._store.is_sqlite:
            self._holder = await self._store.engine.connect()
            await self._holder.execute(sa.text(f"SELECT pg_advisory_lock({LOCK_KEY})"))

    async def wait_in(self, conn: AsyncConnection) -> None:
        if self._store.is_sqlite:
            loop = asyncio.get_running_loop()

            def wait() -> int:  # runs in aiosqlite's thread, inside the statement
                loop.call_soon_threadsafe(self.entered.set)
                return int(self._released.wait(RELEASE_LIMIT))

            driver = await driver_connection(conn)
            await driver.create_function("auditwire_test_wait", 0, wait)
            await conn.exec_driver_sql("SELECT auditwire_test_wait()")
            return
        self.entered.set()  # the task's next await is the driver's, on a lock held elsewhere
        await conn.execute(sa.text(f"SELECT pg_advisory_xact_lock({LOCK_KEY})"))

    async def release(self) -> None:
        self._released.set()
        if self._holder is not None:
            await self._holder.execute(sa.text(f"SELECT pg_advisory_unlock({LOCK_KEY})"))
            await self._holder.close()
            self._holder = None


@pytest.fixture
async def block(services: Services) -> AsyncIterator[DriverBlock]:
    driver_block = DriverBlock(services.store)
    await driver_block.hold()
    yield driver_block
    await driver_block.release()


async def _old_attempts(services: Services, count: int) -> None:
    destination = await add_destination(services, "http://127.0.0.1:9/hook")
    event_ids = await record(services, [user_event()] * count)
    long_ago = utcnow() - timedelta(days=30)
    rows = [
        AttemptRecord(destination.id, i, "user_created", long_ago, 1, AttemptOutcome.RETRY, 500)
        for i in event_ids
    ]
    async with services.store.write() as conn:
        await attempts_store.insert_attempts(conn, rows)


async def _attempt_count(services: Services) -> int:
    async with services.store.read() as conn:
        query = sa.select(sa.func.count()).select_from(delivery_attempts)
        return int((await conn.execute(query)).scalar_one())


def _blocked_prune(block: DriverBlock) -> object:
    real = attempts_store.prune_batch

    async def prune_batch(conn: AsyncConnection, older_than: object) -> int:
        await block.wait_in(conn)
        return await real(conn, older_than)  # type: ignore[arg-type]

    return prune_batch


def _pruner_task() -> asyncio.Task[object]:
    return next(t for t in asyncio.all_tasks() if t.get_name() == "delivery-log-prune")


async def test_pruner_cancelled_inside_its_transaction_stops_cleanly_and_the_store_goes_on(
    services: Services, block: DriverBlock, monkeypatch: pytest.MonkeyPatch
) -> None:
    if services.store.is_sqlite:
        # aiosqlite finishes a cancelled statement in its thread and, now and then, leaves the
        # write lock held past the cancellation: a separate defect, not this one.
        pytest.skip("cancelling inside an aiosqlite call can leave SQLite's write lock held")
    await _old_attempts(services, 3)
    woken: list[int] = []
    remove_hook = deliveries_store.on_outbox_commit(services.store, lambda: woken.append(1))
    monkeypatch.setattr(prune, "prune_batch", _blocked_prune(block))
    pruner = AttemptPruner(services.store, keep_days=14)
    pruner.start()
    task = _pruner_task()
    try:
        await block.entered.wait()
        stopping = asyncio.create_task(pruner.stop(grace=0))  # cancels inside the DELETE's txn

        async def cancelled() -> bool:
            return task.done() or task.cancelling() > 0

        await eventually(cancelled)
        await block.release()
        await stopping  # no error escapes the shutdown
        assert task.cancelled()
        assert await _attempt_count(services) == 3  # the cancelled batch rolled back whole
        monkeypatch.undo()
        await record(services, [user_event()])  # a later transaction, writing the outbox
        assert woken == [1]  # the commit hook still fires, once, for that one
        assert await AttemptPruner(services.store, keep_days=14).prune() == 3
        assert await _attempt_count(services) == 0
    finally:
        remove_hook()


async def test_pruner_stop_lets_the_batch_under_way_commit(
    services: Services, block: DriverBlock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _old_attempts(services, 3)
    monkeypatch.setattr(prune, "prune_batch", _blocked_prune(block))
    pruner = AttemptPruner(services.store, keep_days=14)
    pruner.start()
    task = _pruner_task()
    await block.entered.wait()
    stopping = asyncio.create_task(pruner.stop())
    await asyncio.sleep(0)  # one turn of the loop: stop() has begun, the DELETE still waits
    assert not task.done() and task.cancelling() == 0
    await block.release()
    await stopping
    assert task.done() and not task.cancelled()
    assert await _attempt_count(services) == 0
