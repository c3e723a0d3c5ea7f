"""What owners and operators see of delivery: attempt records, destination health, and the
rules of replaying a window of events. Pure values and rules, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from auditwire.errors import InvalidInput

DELIVERY_LOG_DAYS = 14  # days an attempt record is kept
MAX_REPLAY_WINDOW = timedelta(days=30)
MAX_REPLAY_EVENTS = 1_000_000  # events one replay may queue
TEST_EVENT_TYPE = "streaming_destination_test"
REPLAY_EVENT_TYPE = "streaming_destination_replay"
RETRY_FAILED_EVENT_TYPE = "streaming_destination_retry_failed"

REPLAY_WINDOW_ORDER = "createdAfter must be earlier than createdBefore"
REPLAY_WINDOW_TOO_LONG = "The replay window must not be longer than 30 days"
REPLAY_TOO_MANY = (
    "The replay window holds more than 1000000 events to queue; replay a shorter window"
)


class AttemptOutcome(StrEnum):
    """What one attempt led to."""

    DELIVERED = "delivered"  # 2xx
    RETRY = "retry"  # failed; tried again later
    FAILED = "failed"  # failed past the maximum age; kept, not retried until asked
    GONE = "gone"  # 410: the destination was deactivated


class DestinationKind(StrEnum):
    GROUP = "group"
    INSTANCE = "instance"


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One request to a destination (one event, or a batch of `event_count` events from
    `event_id` to `last_event_id`) and what came of it, stamped when it ended. `status_code`
    is None when no response came; `error` then says why (for a batch: the receiver's
    answer, even when it was delivered)."""

    destination_id: int
    event_id: int
    event_type: str
    attempted_at: datetime
    duration_ms: int
    outcome: AttemptOutcome
    status_code: int | None = None
    error: str | None = None
    id: int | None = None  # set once stored
    # A batch's attempt: its event count; `event_id` is its first event, this its last.
    event_count: int = 1
    last_event_id: int | None = None


class HealthState(StrEnum):
    HEALTHY = "healthy"
    FAILING = "failing"  # the last attempts failed; the circuit is still closed
    CIRCUIT_OPEN = "circuit_open"  # too many failures in a row: only probes are sent
    INACTIVE = "inactive"  # deactivated by its owner or by a 410


def health_state(*, active: bool, circuit_open: bool, consecutive_failures: int) -> HealthState:
    if not active:
        return HealthState.INACTIVE
    if circuit_open:
        return HealthState.CIRCUIT_OPEN
    if consecutive_failures > 0:
        return HealthState.FAILING
    return HealthState.HEALTHY


@dataclass(frozen=True, slots=True)
class DestinationHealth:
    destination_id: int
    group_id: int | None
    name: str
    state: HealthState
    pending_count: int
    failed_count: int
    consecutive_failures: int
    last_success_at: datetime | None
    last_failure_at: datetime | None
    last_error: str | None

    @property
    def kind(self) -> DestinationKind:
        return DestinationKind.INSTANCE if self.group_id is None else DestinationKind.GROUP


@dataclass(frozen=True, slots=True)
class QueueStats:
    """The outbox as an operator sees it."""

    pending: int
    failed: int
    oldest_pending_at: datetime | None
    open_circuits: int

    def oldest_pending_age(self, now: datetime) -> float:
        """Seconds the oldest pending delivery has waited; 0 when nothing is pending."""
        if self.oldest_pending_at is None:
            return 0.0
        return max(0.0, (now - self.oldest_pending_at).total_seconds())


def validate_replay_window(created_after: datetime, created_before: datetime) -> None:
    """A replay covers a non-empty window of at most 30 days."""
    if created_after >= created_before:
        raise InvalidInput(REPLAY_WINDOW_ORDER, "createdAfter")
    if created_before - created_after > MAX_REPLAY_WINDOW:
        raise InvalidInput(REPLAY_WINDOW_TOO_LONG, "createdBefore")
