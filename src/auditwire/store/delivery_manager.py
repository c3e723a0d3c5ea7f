"""The delivery manager in SQL: the worker's one way to claim, settle and load destinations
(see `streaming.manager.DeliveryManager`). Each call is one transaction on the store; the
worker never holds a connection. A 410 deactivates its destination and records that change's
audit event in the same transaction, like any change to a destination."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from contextlib import suppress
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from auditwire.domain.delivery import (
    BatchClaim,
    BatchResult,
    Deactivated,
    Exchange,
    LoadedDestinations,
    Result,
    Settled,
    skip_unsendable,
)
from auditwire.domain.destination_events import deactivation_event
from auditwire.domain.events import NewAuditEvent
from auditwire.domain.owner import Owner
from auditwire.domain.retry import CircuitPolicy
from auditwire.metrics import EVENTS_RECORDED
from auditwire.store import deliveries as deliveries_store
from auditwire.store import namespaces as ns_store
from auditwire.store.attempts import prune_batch
from auditwire.store.batch_claims import claim_batch
from auditwire.store.database import Store
from auditwire.store.destination_revision import destinations_revision
from auditwire.store.wakeup import listen

# PostgreSQL runs each claim in a backend of its own: two batch claims side by side keep two
# cores busy where one at a time left the lane waiting on the database between batches.
PG_CLAIMS_AT_ONCE = 2


class SqlDeliveryManager:
    """Claims and settles deliveries in the store's database (SQLite or PostgreSQL)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.claims_at_once = 1 if store.is_sqlite else PG_CLAIMS_AT_ONCE
        self._remove_hook: Callable[[], None] | None = None
        self._listener: asyncio.Task[None] | None = None

    async def start(self, wake: Callable[[], None]) -> None:
        loop = asyncio.get_running_loop()
        # Commits may happen on another thread's loop (a server in a thread): hop safely.
        self._remove_hook = deliveries_store.on_outbox_commit(
            self.store, lambda: loop.call_soon_threadsafe(wake)
        )
        if not self.store.is_sqlite:  # other processes' commits arrive as NOTIFY
            self._listener = asyncio.create_task(
                listen(self.store.url, wake), name="delivery-listen"
            )

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        if self._remove_hook is not None:
            self._remove_hook()
            self._remove_hook = None

    async def load_destinations(self) -> LoadedDestinations:
        async with self.store.read() as conn:
            # The revision first: a change committed in between makes the next claim reload.
            revision = await destinations_revision(conn)
            return LoadedDestinations(revision, await deliveries_store.load_destinations(conn))

    async def exchange(
        self,
        outcomes: Sequence[Result],
        wanted: dict[int, int],
        probes: Sequence[int],
        now: datetime,
        lease_until: datetime,
        policy: CircuitPolicy,
    ) -> Exchange:
        async def work(conn: AsyncConnection) -> Exchange:
            return await _exchange(conn, outcomes, dict(wanted), probes, now, lease_until, policy)

        return await self.store.write_whole(work)

    async def settle(
        self, outcomes: Sequence[Result], now: datetime, policy: CircuitPolicy
    ) -> Settled:
        async def work(conn: AsyncConnection) -> Settled:
            return await write_outcomes(conn, outcomes, now, policy)

        return await self.store.write_whole(work)

    # A batch's claim and settle run whole, in one hop to SQLite's thread (`write_whole`), as
    # the per-event exchange does: one hop per statement kept SQLite's one writer waiting.
    async def claim_batch(
        self, destination_id: int, n: int, now: datetime, lease_until: datetime, *, probe: bool
    ) -> BatchClaim:
        async def work(conn: AsyncConnection) -> BatchClaim:
            wanted = n
            if probe:
                if not await deliveries_store.take_probe(conn, destination_id, now, lease_until):
                    return BatchClaim([])
                wanted = 1
            claimed = await claim_batch(conn, destination_id, wanted, now, lease_until)
            if not claimed:
                if probe:
                    await deliveries_store.close_circuit(conn, destination_id)
                return BatchClaim([])
            # After the claim, in its transaction: as the per-event exchange reads it.
            return BatchClaim(claimed, await destinations_revision(conn))

        return await self.store.write_whole(work)

    async def settle_batch(
        self, batch: BatchResult, now: datetime, policy: CircuitPolicy
    ) -> Settled:
        async def work(conn: AsyncConnection) -> Settled:
            settled = await deliveries_store.record_batch(conn, batch, now, policy)
            await _audit_deactivations(conn, settled, now)
            return settled

        return await self.store.write_whole(work)

    async def prune_attempts(self, older_than: datetime) -> int:
        async with self.store.write() as conn:
            return await prune_batch(conn, older_than)


async def _exchange(
    conn: AsyncConnection,
    outcomes: Sequence[Result],
    wanted: dict[int, int],
    probes: Sequence[int],
    now: datetime,
    lease_until: datetime,
    policy: CircuitPolicy,
) -> Exchange:
    """Settle `outcomes`, then claim what is wanted and take the probes, in one transaction."""
    settled = None
    if outcomes:
        settled = await write_outcomes(conn, outcomes, now, policy)
        skip_unsendable(wanted, settled, now)
    taken: set[int] = set()
    for destination_id in probes:
        if await deliveries_store.take_probe(conn, destination_id, now, lease_until):
            taken.add(destination_id)
            wanted[destination_id] = 1
    claimed = await deliveries_store.claim(conn, wanted, now, lease_until, probes=frozenset(taken))
    got = {c.destination_id for c in claimed}
    for destination_id in taken - got:
        await deliveries_store.close_circuit(conn, destination_id)
    # Read after the claim (in its transaction): it covers every change committed before the
    # claimed events were, so the worker knows whether its destinations are older than them.
    revision = await destinations_revision(conn) if claimed else None
    return Exchange(settled, claimed, frozenset(taken), revision)


async def write_outcomes(
    conn: AsyncConnection, results: Sequence[Result], now: datetime, policy: CircuitPolicy
) -> Settled:
    """Settle per-event outcomes in the caller's transaction, auditing any deactivation."""
    settled = await deliveries_store.record_outcomes(conn, results, now, policy)
    await _audit_deactivations(conn, settled, now)
    return settled


async def _audit_deactivations(conn: AsyncConnection, settled: Settled, now: datetime) -> None:
    for destination in settled.deactivated:
        event = await _deactivation_event(conn, destination)
        recorded = await deliveries_store.record_events(conn, [event], now)
        for entity_type in {e.entity_type for e in recorded}:
            EVENTS_RECORDED.labels(entity_type).inc()


async def _deactivation_event(conn: AsyncConnection, destination: Deactivated) -> NewAuditEvent:
    owner = Owner.instance()
    if destination.group_id is not None:
        group = await ns_store.get_group(conn, destination.group_id)
        owner = Owner.of(group) if group is not None else owner
    return deactivation_event(owner, destination.id, destination.name, destination.category)
