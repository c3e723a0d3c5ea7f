"""Pruning the delivery log in the background: attempt records older than the kept days go,
in bounded batches; events and deliveries are never touched."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Protocol

from auditwire.domain.events import utcnow
from auditwire.errors import StorageError
from auditwire.store import Store
from auditwire.store.attempts import PRUNE_BATCH, prune_batch

PRUNE_INTERVAL = 3600.0  # seconds between two prunes
BATCH_PAUSE = 0.05  # seconds between two batches, so other writers get their turn
MAX_BATCHES = 200  # per prune; a larger backlog is finished by the next prunes
STOP_GRACE = 10.0  # seconds `stop()` lets a batch under way commit before cancelling it

log = logging.getLogger(__name__)


class Prunes(Protocol):
    """What deletes a bounded batch of old attempt records (a delivery manager)."""

    async def prune_attempts(self, older_than: datetime) -> int: ...


class _StorePrunes:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def prune_attempts(self, older_than: datetime) -> int:
        async with self._store.write() as conn:
            return await prune_batch(conn, older_than)


class AttemptPruner:
    """Deletes old attempt records now and then. `start()` then `stop()`. `source` is the
    delivery manager, or a store."""

    def __init__(
        self, source: Prunes | Store, keep_days: int, *, interval: float = PRUNE_INTERVAL
    ) -> None:
        self._source: Prunes = _StorePrunes(source) if isinstance(source, Store) else source
        self._keep = timedelta(days=keep_days)
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    def start(self) -> None:
        if self._task is None:
            self._stop.clear()
            self._task = asyncio.create_task(self._run(), name="delivery-log-prune")

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Stop after the batch under way, if any, commits; cancel it after `grace` seconds.

        Cancelling a task inside a database call makes SQLAlchemy throw its connection away,
        so the pruner is asked to finish first rather than cancelled at once."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stop.set()
        try:
            if grace > 0:
                await asyncio.wait({task}, timeout=grace)
        finally:
            task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():  # the caller is being cancelled
                raise
        except Exception:  # shutting down goes on; the next prune deletes what this one left
            log.exception("stopping the delivery log pruner failed")
        finally:
            self._stop.clear()  # `prune()` called by hand afterwards runs in full

    async def prune(self, now: datetime | None = None) -> int:
        """Delete the records older than the kept days, batch by batch; how many went."""
        older_than = (now or utcnow()) - self._keep
        removed = 0
        for _ in range(MAX_BATCHES):
            if self._stop.is_set():
                break
            count = await self._source.prune_attempts(older_than)
            removed += count
            if count < PRUNE_BATCH:
                break
            await asyncio.sleep(BATCH_PAUSE)
        return removed

    async def _run(self) -> None:
        while True:
            try:
                removed = await self.prune()
                if removed:
                    log.info("pruned the delivery log", extra={"removed": removed})
            except StorageError as error:
                log.warning("pruning the delivery log failed: %s", error)
            with suppress(TimeoutError):
                async with asyncio.timeout(self._interval):
                    await self._stop.wait()
            if self._stop.is_set():
                return
