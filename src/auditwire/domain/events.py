"""Audit events: what is recorded, how it is read back, and the exact JSON GitLab streams."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

import orjson

EVENT_TYPE_MAX_LENGTH = 255  # characters
# GitLab's scope for events about the instance itself (Gitlab::Audit::InstanceScope).
INSTANCE_ENTITY_ID = 1
INSTANCE_ENTITY_PATH = "gitlab_instance"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MILLISECOND = timedelta(milliseconds=1)


class EntityType(StrEnum):
    GROUP = "Group"
    PROJECT = "Project"
    USER = "User"
    INSTANCE = "Instance"


@dataclass(frozen=True, slots=True)
class Author:
    id: int
    name: str
    author_class: str = "User"


SYSTEM_AUTHOR = Author(id=-1, name="auditwire", author_class="System")


@dataclass(frozen=True, slots=True)
class Target:
    id: int | str | None
    type: str | None
    details: str | None


@dataclass(frozen=True, slots=True)
class NewAuditEvent:
    """An event about to be recorded; the store gives it an id and a time."""

    event_type: str
    author: Author
    entity_type: EntityType
    entity_id: int
    entity_path: str
    target: Target | None = None
    ip_address: str | None = None
    custom_message: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    stream_only: bool = False
    # Top-level group whose destinations receive the event; None for user and instance events.
    root_group_id: int | None = None

    def full_details(self) -> dict[str, Any]:
        """GitLab's `details` object: the caller's details plus author, target and entity facts."""
        target = self.target or Target(None, None, None)
        base: dict[str, Any] = {
            "author_name": self.author.name,
            "author_class": self.author.author_class,
            "target_id": target.id,
            "target_type": target.type,
            "target_details": target.details,
        }
        if self.custom_message is not None:
            base["custom_message"] = self.custom_message
        base["ip_address"] = self.ip_address
        base["entity_path"] = self.entity_path
        return {**base, **self.details}


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """A recorded audit event. `id` is the stable deduplication key on every delivery."""

    id: int
    event_type: str
    author_id: int
    author_name: str
    entity_type: str
    entity_id: int
    entity_path: str
    target_id: int | str | None
    target_type: str | None
    target_details: str | None
    ip_address: str | None
    details: dict[str, Any]
    created_at: datetime
    stream_only: bool
    root_group_id: int | None

    def stream_payload(self) -> dict[str, Any]:
        """The body GitLab POSTs to a streaming destination, keys in GitLab's order."""
        return {
            "id": self.id,
            "author_id": self.author_id,
            "entity_id": self.entity_id,
            "entity_type": self.entity_type,
            "details": self.details,
            "ip_address": self.ip_address,
            "author_name": self.author_name,
            "entity_path": self.entity_path,
            "target_details": self.target_details,
            "created_at": format_timestamp(self.created_at),
            "target_type": self.target_type,
            "target_id": self.target_id,
            "event_type": self.event_type,
        }

    def stream_body(self) -> bytes:
        return orjson.dumps(self.stream_payload())

    def rest_item(self) -> dict[str, Any]:
        """The item of GitLab's REST `audit_events` API."""
        return {
            "id": self.id,
            "author_id": self.author_id,
            "entity_id": self.entity_id,
            "entity_type": self.entity_type,
            "event_name": self.event_type,
            "details": self.details,
            "created_at": format_timestamp(self.created_at),
        }


class StreamedEvent(NamedTuple):
    """What a batch sends of an event: its id and type (for the delivery log), its time in
    epoch milliseconds (for envelopes that carry one), and its stream body as GitLab streams
    it. A tuple, as the batch claim's rows are: a thousand are made per batch."""

    event_id: int
    event_type: str
    time_ms: int
    body: bytes


def streamed(event: AuditEvent) -> StreamedEvent:
    """The event as a batch sends it, rendered here (the batch claim has the database render
    the same body; see `store.batch_claims`)."""
    return StreamedEvent(
        event.id, event.event_type, epoch_ms(event.created_at), event.stream_body()
    )


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch, rounded down (as the timestamp form truncates)."""
    return (as_utc(moment) - EPOCH) // MILLISECOND


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """Naive datetimes from the database are UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def format_timestamp(moment: datetime) -> str:
    """GitLab's timestamp form: `2022-07-26T05:43:53.662Z`."""
    # isoformat is several times faster than strftime, which matters when listing many events.
    return as_utc(moment).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"
