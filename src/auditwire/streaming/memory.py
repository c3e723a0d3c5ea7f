"""A delivery manager in memory: the same contract as the SQL one (`streaming.manager`),
with no database. For worker tests and for embedding auditwire's worker without storage, as
procrastinate's InMemoryConnector. Not shared between processes; nothing survives a restart.

Fan-out is the caller's: `add_destination`, then `enqueue(event)` for the destinations
that should receive it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import count
from typing import Any

from auditwire.crypto import SecretBox
from auditwire.domain.delivery import (
    BatchClaim,
    BatchResult,
    Claimed,
    Deactivated,
    Exchange,
    Leased,
    LoadedDestinations,
    Result,
    Settle,
    Settled,
    StoredDestination,
    skip_unsendable,
)
from auditwire.domain.delivery_log import AttemptRecord
from auditwire.domain.events import AuditEvent, utcnow
from auditwire.domain.retry import Circuit, CircuitPolicy, CircuitState


@dataclass
class MemoryDelivery:
    """One delivery as the in-memory outbox keeps it."""

    id: int
    event: AuditEvent
    destination_id: int
    created_at: datetime
    next_attempt_at: datetime
    state: str = "pending"
    attempts: int = 0
    leased: bool = False
    last_error: str | None = None


@dataclass
class MemoryDestination:
    stored: StoredDestination
    last_error: str | None = None
    last_success_at: datetime | None = None
    deliveries: dict[int, MemoryDelivery] = field(default_factory=dict)


class InMemoryDeliveryManager:
    """Deliveries, destinations and the delivery log in dictionaries."""

    claims_at_once = 1  # claims finish at once: nothing to gain from more side by side

    def __init__(self, box: SecretBox) -> None:
        self._box = box
        self._ids = count(1)
        self.destinations: dict[int, MemoryDestination] = {}
        self.attempts: list[AttemptRecord] = []
        self.delivered: list[tuple[int, int]] = []  # (destination id, event id), in order
        self.released = 0
        self._wake: Callable[[], None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed = asyncio.Event()

    async def wait_for(self, condition: Callable[[], bool]) -> None:
        """Return once `condition()` holds, looking again after each claim or settle (bound
        it with `asyncio.timeout`)."""
        while not condition():
            self._changed.clear()
            await self._changed.wait()

    # What a store and its services do elsewhere ------------------------------------------

    def add_destination(
        self,
        *,
        category: str,
        config: dict[str, Any],
        secret: str = "",
        name: str | None = None,
        group_id: int | None = None,
        signing_secret: str = "",
    ) -> int:
        """A new active destination; its id."""
        destination_id = next(self._ids)
        self.destinations[destination_id] = MemoryDestination(
            StoredDestination(
                id=destination_id,
                group_id=group_id,
                name=name or f"destination {destination_id}",
                category=category,
                config=dict(config),
                secret_token=self._box.encrypt(secret),
                signing_secret=self._box.encrypt(signing_secret),
                active=True,
                updated_at=utcnow(),
                circuit=Circuit(),
            )
        )
        return destination_id

    def enqueue(self, event: AuditEvent, destination_ids: Iterable[int] | None = None) -> None:
        """One pending delivery of `event` per destination (every active one by default),
        due now; wakes a started worker."""
        now = utcnow()
        chosen = self.destinations if destination_ids is None else destination_ids
        for destination_id in chosen:
            destination = self.destinations[destination_id]
            if destination.stored.active:
                delivery_id = next(self._ids)
                destination.deliveries[delivery_id] = MemoryDelivery(
                    delivery_id, event, destination_id, now, now
                )
        if self._wake is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake)

    def pending(self, destination_id: int) -> list[MemoryDelivery]:
        return [
            d for d in self.destinations[destination_id].deliveries.values() if d.state == "pending"
        ]

    def failed(self, destination_id: int) -> list[MemoryDelivery]:
        return [
            d for d in self.destinations[destination_id].deliveries.values() if d.state == "failed"
        ]

    def circuit(self, destination_id: int) -> Circuit:
        return self.destinations[destination_id].stored.circuit

    # The DeliveryManager contract --------------------------------------------------------

    async def start(self, wake: Callable[[], None]) -> None:
        self._wake, self._loop = wake, asyncio.get_running_loop()

    async def stop(self) -> None:
        self._wake = None

    async def load_destinations(self) -> LoadedDestinations:
        active = [d.stored for d in self.destinations.values() if d.stored.active]
        return LoadedDestinations(self._revision(), active)

    def _revision(self) -> object:
        stored = [d.stored for d in self.destinations.values()]
        return len(stored), max((d.updated_at for d in stored), default=None)

    async def exchange(
        self,
        outcomes: Sequence[Result],
        wanted: dict[int, int],
        probes: Sequence[int],
        now: datetime,
        lease_until: datetime,
        policy: CircuitPolicy,
    ) -> Exchange:
        wanted = dict(wanted)
        settled = None
        if outcomes:
            settled = await self.settle(outcomes, now, policy)
            skip_unsendable(wanted, settled, now)
        taken: set[int] = set()
        for destination_id in probes:
            if self._take_probe(destination_id, now, lease_until):
                taken.add(destination_id)
                wanted[destination_id] = 1
        claimed: list[Claimed] = []
        for destination_id, n in wanted.items():
            probe = destination_id in taken
            claimed.extend(
                Claimed(d.id, destination_id, d.attempts, d.created_at, d.event, body, probe)
                for d in self._claim(destination_id, n, now, lease_until)
                for body in (d.event.stream_body(),)
            )
        for destination_id in taken - {c.destination_id for c in claimed}:
            self._set_circuit(destination_id, Circuit())
        return Exchange(settled, claimed, frozenset(taken), self._revision() if claimed else None)

    async def settle(
        self, outcomes: Sequence[Result], now: datetime, policy: CircuitPolicy
    ) -> Settled:
        for r in outcomes:
            self._settle_one(r.destination_id, r.delivery_id, r.settle, r.at, r.error, now)
        self.attempts.extend(r.attempt for r in outcomes if r.attempt is not None)
        return self._health([r for r in outcomes if r.settle is not Settle.RELEASE], now, policy)

    async def claim_batch(
        self, destination_id: int, n: int, now: datetime, lease_until: datetime, *, probe: bool
    ) -> BatchClaim:
        if probe:
            if not self._take_probe(destination_id, now, lease_until):
                return BatchClaim([])
            claimed = self._claim(destination_id, 1, now, lease_until)
            if not claimed:
                self._set_circuit(destination_id, Circuit())
        else:
            claimed = self._claim(destination_id, n, now, lease_until)
        leased = [Leased.of(d.id, d.attempts, d.created_at, d.event) for d in claimed]
        return BatchClaim(leased, self._revision() if leased else None)

    async def settle_batch(
        self, batch: BatchResult, now: datetime, policy: CircuitPolicy
    ) -> Settled:
        for group in batch.groups:
            for delivery_id in group.delivery_ids:
                self._settle_one(
                    batch.destination_id, delivery_id, group.settle, group.at, group.error, now
                )
        if batch.attempt is not None:
            self.attempts.append(batch.attempt)
        attempted = [] if batch.settle is Settle.RELEASE else [batch.as_attempt()]
        return self._health(attempted, now, policy)

    async def prune_attempts(self, older_than: datetime) -> int:
        kept = [a for a in self.attempts if a.attempted_at >= older_than]
        removed, self.attempts = len(self.attempts) - len(kept), kept
        return removed

    # Helpers -------------------------------------------------------------------------------

    def _claim(
        self, destination_id: int, n: int, now: datetime, lease_until: datetime
    ) -> list[MemoryDelivery]:
        """Lease up to `n` due deliveries of an active destination, oldest due first."""
        destination = self.destinations.get(destination_id)
        if destination is None or not destination.stored.active or n <= 0:
            return []
        due = sorted(
            (
                d
                for d in destination.deliveries.values()
                if d.state == "pending" and d.next_attempt_at <= now
            ),
            key=lambda d: (d.next_attempt_at, d.id),
        )[:n]
        self._changed.set()
        for d in due:
            d.next_attempt_at, d.leased = lease_until, True
            d.attempts += 1
        return due

    def _settle_one(
        self,
        destination_id: int,
        delivery_id: int,
        settle: Settle,
        at: datetime | None,
        error: str | None,
        now: datetime,
    ) -> None:
        destination = self.destinations.get(destination_id)
        d = destination.deliveries.get(delivery_id) if destination else None
        if destination is None or d is None:
            return
        d.leased = False
        self._changed.set()
        match settle:
            case Settle.DELIVERED:
                del destination.deliveries[delivery_id]
                self.delivered.append((destination_id, d.event.id))
            case Settle.RETRY:
                d.next_attempt_at, d.last_error = at or now, error
            case Settle.FAILED:
                d.state, d.last_error = "failed", error
            case Settle.GONE:
                d.next_attempt_at, d.last_error = now, "410 Gone"
            case Settle.RELEASE:
                d.next_attempt_at = now
                d.attempts -= 1
                self.released += 1

    def _health(self, attempted: Sequence[Result], now: datetime, policy: CircuitPolicy) -> Settled:
        before = {r.destination_id: self.circuit(r.destination_id) for r in attempted}
        deactivated: list[Deactivated] = []
        for r in attempted:
            destination = self.destinations[r.destination_id]
            circuit = destination.stored.circuit
            if r.settle is Settle.DELIVERED:
                if circuit.state is CircuitState.OPEN:  # closed: its backlog is due at once
                    for d in destination.deliveries.values():
                        if d.state == "pending" and not d.leased:
                            d.next_attempt_at = min(d.next_attempt_at, now)
                self._set_circuit(r.destination_id, circuit.after_success())
                destination.last_success_at = now
            else:
                self._set_circuit(
                    r.destination_id, circuit.after_failure(now, policy, probe=r.probe)
                )
                destination.last_error = r.error
            if r.settle is Settle.GONE and destination.stored.active:
                stored = destination.stored
                destination.stored = replace(stored, active=False, updated_at=now)
                deactivated.append(
                    Deactivated(stored.id, stored.group_id, stored.name, stored.category)
                )
        circuits = {
            i: self.circuit(i) for i, circuit in before.items() if self.circuit(i) != circuit
        }
        return Settled(deactivated, circuits)

    def _take_probe(self, destination_id: int, now: datetime, lease_until: datetime) -> bool:
        circuit = self.circuit(destination_id)
        if circuit.state is not CircuitState.OPEN:
            return False
        if circuit.open_until is not None and circuit.open_until > now:
            return False
        self._set_circuit(destination_id, replace(circuit, open_until=lease_until))
        return True

    def _set_circuit(self, destination_id: int, circuit: Circuit) -> None:
        self._changed.set()
        destination = self.destinations[destination_id]
        destination.stored = replace(destination.stored, circuit=circuit)
