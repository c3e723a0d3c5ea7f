"""The seam every destination kind implements: turn one event (`Sink`) or a batch of events
(`BatchSink`) into the kind's request, and the kind's answer into a transport-neutral verdict
the delivery engine acts on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Protocol, TypeVar

from auditwire.domain import batch_rules
from auditwire.domain.delivery import OneEvent

TargetT = TypeVar("TargetT")


class Verdict(StrEnum):
    """What one attempt means for the delivery."""

    DELIVERED = "delivered"  # the receiver has the event
    RETRY = "retry"  # try again later (after `retry_after` when the receiver gave one)
    GONE = "gone"  # the receiver asks us to stop: the destination is deactivated
    REFUSED = "refused"  # this event will never be accepted: it fails without more attempts


@dataclass(frozen=True, slots=True)
class Answer:
    """The outcome of one attempt, with the kind's own facts for the delivery log."""

    verdict: Verdict
    status: int | None = None  # the kind's status code for the log (HTTP status of the request)
    # A readable reason: "HTTP 503", "NoSuchBucket: The specified bucket does not exist",
    # "timed out".
    detail: str | None = None
    retry_after: float | None = None  # seconds the receiver asked to wait


class Sink(Protocol[TargetT]):
    """One destination kind. A sink is started once, sends for many targets, and is closed."""

    category: ClassVar[str]

    def prepare(self, config: Mapping[str, Any], secret: str) -> TargetT:
        """Check a destination's config and secret once and keep what sending needs.

        Raises ValueError with a readable reason when the config cannot be used.
        """
        ...

    async def start(self) -> None:
        """Open what the sink keeps for its life (connection pools)."""
        ...

    async def close(self) -> None:
        """Release what `start` opened."""
        ...

    async def send(self, target: TargetT, event: OneEvent, body: bytes) -> Answer:
        """Deliver one event (`body` is `event.stream_body()`; `event` an `AuditEvent` or the
        `EventRef` of a claim: its id, type and entity type). Never raises: every failure of
        the attempt is an Answer with a readable `detail`."""
        ...


# --- Batches: many events in one request -------------------------------------------------

# The ceilings live with the config rules (domain.batch_rules); re-exported for the sinks.
EVENTS_CEILING = batch_rules.EVENTS_CEILING
BYTES_CEILING = batch_rules.BYTES_CEILING
DEFAULT_WAIT_MS = batch_rules.DEFAULT_WAIT_MS


class Outgoing(Protocol):
    """One event of a batch as every kind sends it: its id and type, its time in epoch
    milliseconds, and its stream body (GitLab's payload, `event.stream_body()`), rendered
    once when the delivery was claimed and embedded as it is. The batch claim's `Leased`
    items are Outgoing; `streamed(event)` makes one from an event."""

    @property
    def event_id(self) -> int: ...
    @property
    def event_type(self) -> str: ...
    @property
    def time_ms(self) -> int: ...
    @property
    def body(self) -> bytes: ...


@dataclass(frozen=True, slots=True)
class BatchLimits:
    """How much the worker gathers for one `send_batch`: at most `max_events` events and
    `max_bytes` bytes of stream bodies, and a partial batch goes out once its oldest event
    has waited `max_wait_ms`. A sink still splits a batch it is given that its receiver
    could not take in one request, so the limits are advice for a good request size, not a
    precondition of correctness."""

    max_events: int
    max_bytes: int
    max_wait_ms: int = DEFAULT_WAIT_MS


@dataclass(frozen=True, slots=True)
class BatchAnswer:
    """The outcome of one `send_batch`, in the shape one settle statement needs.

    `answer` is the batch's (what the delivery log records for the attempt, with the first
    and last id and the event count), and it holds for every event whose index is not in
    `exceptions`. `exceptions` maps the index of an event in the `items` given to its own
    answer: a REFUSED event that the receiver rejected as malformed (HEC code 6, a log over
    Datadog's 1 MB) with the reason in `detail`, or, after a batch was split, a part that
    did not go through while the others did. The worker therefore settles in one statement
    by grouping: `groups(len(items))` yields each distinct answer with its indices.
    `requests` counts the HTTP requests the batch took (more than one when it was split).
    """

    answer: Answer
    exceptions: Mapping[int, Answer] = field(default_factory=dict)
    requests: int = 1

    def answer_for(self, index: int) -> Answer:
        """The answer that settles the event at `index`."""
        return self.exceptions.get(index, self.answer)

    def refused(self) -> dict[int, str]:
        """Indices of the events that failed permanently, with their reason."""
        return {
            index: answer.detail or answer.verdict.value
            for index, answer in self.exceptions.items()
            if answer.verdict is Verdict.REFUSED
        }

    def groups(self, count: int) -> list[tuple[Answer, list[int]]]:
        """Each distinct answer with the indices (of `count` items) it settles, the batch's
        answer first: one UPDATE per group, all in one transaction."""
        if not self.exceptions:
            return [(self.answer, list(range(count)))] if count else []
        grouped: dict[Answer, list[int]] = {self.answer: []}
        for index in range(count):
            grouped.setdefault(self.answer_for(index), []).append(index)
        return [(answer, indices) for answer, indices in grouped.items() if indices]


class BatchSink(Protocol[TargetT]):
    """A destination kind that takes many events per request (Splunk HEC, Datadog, batched
    HTTP, batched S3). Started once, sends for many targets, closed.

    The worker claims up to `limits(target)` due deliveries of one destination, calls
    `send_batch` once and settles every claimed delivery from the BatchAnswer in one
    transaction. A batch sink also answers for one event (the test event, a circuit's
    probe) as a batch of one: see `streaming.destinations.BatchOfOne`.
    """

    category: ClassVar[str]

    def prepare(self, config: Mapping[str, Any], secret: str) -> TargetT:
        """Check a destination's config and secret once and keep what sending needs.

        Raises ValueError with a readable reason when the config cannot be used.
        """
        ...

    async def start(self) -> None:
        """Open what the sink keeps for its life (connection pools)."""
        ...

    async def close(self) -> None:
        """Release what `start` opened."""
        ...

    def limits(self, target: TargetT) -> BatchLimits:
        """How many events and bytes to gather for one request to this target."""
        ...

    async def send_batch(self, target: TargetT, items: Sequence[Outgoing]) -> BatchAnswer:
        """Deliver `items` (one or more, in id order) in as few requests as the receiver
        allows. Never raises: every failure is in the BatchAnswer with a readable detail.
        Nothing is lost: an event is either delivered, refused with its reason, or retried."""
        ...
