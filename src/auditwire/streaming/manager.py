"""The seam between the worker and storage: the worker claims, settles and loads destinations
only through a `DeliveryManager`, and never holds a connection. `store.delivery_manager`
implements it in SQL; `streaming.memory` in memory, for tests and embedding."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from auditwire.domain.delivery import (
    BatchClaim,
    BatchResult,
    Exchange,
    LoadedDestinations,
    Result,
    Settled,
)
from auditwire.domain.retry import CircuitPolicy


class DeliveryManager(Protocol):
    """Claims, outcomes and destinations for the worker. Every method is one transaction."""

    # How many batch claims of one destination are worth running side by side while a
    # backlog lasts: 1 where the database takes one writer at a time.
    claims_at_once: int

    async def start(self, wake: Callable[[], None]) -> None:
        """Call `wake` (from any thread) whenever new deliveries may be due."""
        ...

    async def stop(self) -> None:
        """Stop calling `wake`; release what `start` opened."""
        ...

    async def load_destinations(self) -> LoadedDestinations:
        """Every active destination with its active headers, and the revision they are of."""
        ...

    async def exchange(
        self,
        outcomes: Sequence[Result],
        wanted: dict[int, int],
        probes: Sequence[int],
        now: datetime,
        lease_until: datetime,
        policy: CircuitPolicy,
    ) -> Exchange:
        """Settle `outcomes`, then lease up to `wanted[destination_id]` due per-event
        deliveries of each destination (skipping those whose circuit the outcomes opened or
        that answered 410), and one delivery of each destination in `probes` whose probe is
        due and not taken by another worker. A probe that finds nothing closes the circuit.
        On failure nothing is written and the outcomes are the caller's to settle again."""
        ...

    async def settle(
        self, outcomes: Sequence[Result], now: datetime, policy: CircuitPolicy
    ) -> Settled:
        """Settle per-event outcomes and update their destinations' health."""
        ...

    async def claim_batch(
        self, destination_id: int, n: int, now: datetime, lease_until: datetime, *, probe: bool
    ) -> BatchClaim:
        """Lease up to `n` due deliveries of one destination in time order, in one statement,
        each with its event as the batch sends it (`Leased`: its stream body rendered once);
        with `probe`, only when its circuit's probe is due and this call takes it (one
        delivery; a probe that finds nothing closes the circuit). With what it leased, the
        destinations' revision its transaction saw."""
        ...

    async def settle_batch(
        self, batch: BatchResult, now: datetime, policy: CircuitPolicy
    ) -> Settled:
        """Settle a batch: one statement per outcome group, one attempt record, and the
        destination's health updated for one attempt."""
        ...

    async def prune_attempts(self, older_than: datetime) -> int:
        """Delete a bounded batch of attempt records older than `older_than`; how many went."""
        ...
