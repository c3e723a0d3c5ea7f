"""The seam every destination kind implements: turn one event into the kind's request, and
the kind's answer into a transport-neutral verdict the delivery engine acts on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Protocol, TypeVar

from auditwire.domain.events import AuditEvent

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

    async def send(self, target: TargetT, event: AuditEvent, body: bytes) -> Answer:
        """Deliver one event (`body` is `event.stream_body()`). Never raises: every failure
        of the attempt is an Answer with a readable `detail`."""
        ...
