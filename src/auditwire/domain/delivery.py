"""The values the delivery engine passes between the worker and its delivery manager: a
claimed delivery, the outcome of an attempt (one delivery's, or a batch's grouped by
outcome), what settling changed, and a destination as the worker loads it. Pure values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple, Protocol

from auditwire.domain.delivery_log import AttemptRecord
from auditwire.domain.events import AuditEvent, streamed
from auditwire.domain.retry import Circuit, Gate


class OneEvent(Protocol):
    """What a per-event sink reads of the event it sends, besides its stream body: an
    `AuditEvent` is one, and so is the `EventRef` a claim returns."""

    @property
    def id(self) -> int: ...
    @property
    def event_type(self) -> str: ...
    @property
    def entity_type(self) -> str: ...


class EventRef(NamedTuple):
    """The event of a claimed per-event delivery as the claim returns it: the fields a sink
    reads (its stream body is the delivery's `body`, rendered by the database)."""

    id: int
    event_type: str
    entity_type: str


class Claimed(NamedTuple):
    """A leased per-event delivery with its event and the event's stream body. A tuple made
    straight from the claim's rows (no `AuditEvent` built, no body encoded in Python: that
    was most of what claiming cost per delivery)."""

    delivery_id: int
    destination_id: int
    attempts: int  # including this one
    created_at: datetime
    event: OneEvent
    body: bytes = b""  # the event as GitLab streams it (`event.stream_body()`)
    probe: bool = False


class Leased(NamedTuple):
    """A leased delivery of a batched destination with its event as the batch sends it
    (the fields of `StreamedEvent`): what the batch claim returns, one per delivery, built
    straight from the claim's rows. A tuple rather than a dataclass: it is made for every
    event of a batch, a thousand at a time, and that shows in profiles."""

    delivery_id: int
    attempts: int  # including this one
    created_at: datetime  # the delivery's: its recording, replay or retry
    event_id: int
    event_type: str
    time_ms: int  # the event's created_at, epoch milliseconds
    body: bytes  # the event as GitLab streams it

    @classmethod
    def of(cls, delivery_id: int, attempts: int, created_at: datetime, event: AuditEvent) -> Leased:
        return cls(delivery_id, attempts, created_at, *streamed(event))


class Settle(StrEnum):
    DELIVERED = "delivered"  # deleted
    RETRY = "retry"  # rescheduled at `at`
    FAILED = "failed"  # refused, or older than the maximum age: kept, never retried
    GONE = "gone"  # 410: the destination is deactivated; the delivery waits for reactivation
    RELEASE = "release"  # not attempted (shutdown): due again at once, attempt not counted


@dataclass(slots=True)
class Result:
    """An attempt's outcome; its attempt record is attached when the attempt is observed."""

    delivery_id: int
    destination_id: int
    settle: Settle
    at: datetime | None = None  # RETRY: the next attempt
    error: str | None = None
    probe: bool = False
    attempt: AttemptRecord | None = None  # written to the delivery log with the outcome


@dataclass(frozen=True, slots=True)
class SettleGroup:
    """The deliveries of a batch that share one outcome: settled by one statement."""

    settle: Settle
    delivery_ids: tuple[int, ...]
    at: datetime | None = None  # RETRY: the next attempt
    error: str | None = None


@dataclass(slots=True)
class BatchResult:
    """A batch's outcome: its deliveries grouped by outcome, and the batch's own outcome
    (`settle`, `error`), which the circuit breaker counts as one attempt."""

    destination_id: int
    settle: Settle
    groups: list[SettleGroup]
    error: str | None = None
    probe: bool = False
    attempt: AttemptRecord | None = None

    @property
    def count(self) -> int:
        return sum(len(group.delivery_ids) for group in self.groups)

    def as_attempt(self) -> Result:
        """The batch as the one attempt the destination's health counts."""
        return Result(0, self.destination_id, self.settle, error=self.error, probe=self.probe)


@dataclass(frozen=True, slots=True)
class Deactivated:
    id: int
    group_id: int | None
    name: str
    category: str


@dataclass(frozen=True, slots=True)
class Settled:
    deactivated: list[Deactivated]
    circuits: dict[int, Circuit]  # destinations whose health changed, as written


@dataclass(frozen=True, slots=True)
class StoredDestination:
    """A destination as workers load it: secrets still encrypted, its active headers."""

    id: int
    group_id: int | None
    name: str
    category: str
    config: dict[str, Any]
    secret_token: bytes
    signing_secret: bytes
    active: bool
    updated_at: datetime
    circuit: Circuit
    headers: tuple[tuple[str, bytes], ...] = field(default=())

    def __repr__(self) -> str:  # never show secrets, even encrypted
        return f"StoredDestination(id={self.id}, name={self.name!r})"


@dataclass(frozen=True, slots=True)
class Exchange:
    """What one `exchange` did: the outcomes it settled (None when it had none), the
    deliveries it claimed, the destinations whose circuit probe it took, and, when it claimed
    any, the destinations' revision its transaction saw (see `LoadedDestinations`)."""

    settled: Settled | None
    claimed: list[Claimed]
    probes: frozenset[int]
    revision: object = None


class BatchClaim(NamedTuple):
    """What one batch claim leased, and, when it leased any, the destinations' revision its
    transaction saw (see `LoadedDestinations`)."""

    leased: list[Leased]
    revision: object = None


class LoadedDestinations(NamedTuple):
    """The active destinations, and the revision of all destinations read just before them:
    a value that changes whenever a destination is created, changed (its headers too),
    deactivated or deleted. A claim that saw another revision than the worker's destinations
    were loaded at may hold events recorded after a change the worker has not loaded yet."""

    revision: object
    rows: list[StoredDestination]


def skip_unsendable(wanted: dict[int, int], settled: Settled, now: datetime) -> None:
    """Drop from `wanted` the destinations whose circuit `settled` opened or that went."""
    for destination_id, circuit in settled.circuits.items():
        if circuit.gate(now) is not Gate.SEND:
            wanted.pop(destination_id, None)
    for gone in settled.deactivated:
        wanted.pop(gone.id, None)
