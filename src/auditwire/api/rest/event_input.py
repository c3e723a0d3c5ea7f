"""The wire format of audit events sent to `POST /api/v4/audit_events`."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from ipaddress import ip_address
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from auditwire.api.rest.params import describe
from auditwire.domain.events import EVENT_TYPE_MAX_LENGTH, EntityType, Target
from auditwire.errors import InvalidInput
from auditwire.services.ingest import IngestItem

MAX_EVENTS_PER_REQUEST = 1_000
BIGINT_MAX = 2**63 - 1
DETAILS_MAX_BYTES = 64 * 1024  # bytes of JSON per event


def _no_nul(value: str) -> str:
    # Neither PostgreSQL text nor JSONB can hold U+0000; refuse it here rather than fail a batch.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
Id = Annotated[int, Field(ge=-1, le=BIGINT_MAX, strict=True)]


class AuthorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Id | None = None
    name: Annotated[Text, Field(min_length=1, max_length=255)] | None = None

    @model_validator(mode="after")
    def _id_or_name(self) -> AuthorIn:
        if self.id is None and self.name is None:
            raise ValueError("needs an id or a name")
        return self


class TargetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Id | Annotated[Text, Field(max_length=255)] | None = None
    type: Annotated[Text, Field(max_length=255)] | None = None
    details: Annotated[Text, Field(max_length=4096)] | None = None


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_type: Annotated[Text, Field(min_length=1, max_length=EVENT_TYPE_MAX_LENGTH)]
    entity_type: Literal["Group", "Project", "User", "Instance"]
    entity_id: Annotated[int, Field(ge=1, le=BIGINT_MAX, strict=True)] | None = None
    entity_path: Annotated[Text, Field(min_length=1, max_length=2048)] | None = None
    author: AuthorIn
    target: TargetIn | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    custom_message: Annotated[Text, Field(max_length=4096)] | None = None
    ip_address: str | None = None
    created_at: datetime | None = None
    stream_only: StrictBool = False

    @field_validator("ip_address")
    @classmethod
    def _ip(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:  # fast path for the common dotted-quad IPv4 address, already canonical
            socket.inet_pton(socket.AF_INET, value)
            return value
        except OSError:
            return str(ip_address(value))

    @field_validator("created_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        try:
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        except OverflowError:
            raise ValueError("is out of range") from None

    @field_validator("details")
    @classmethod
    def _details(cls, value: dict[str, Any]) -> dict[str, Any]:
        encoded = orjson.dumps(value)
        if len(encoded) > DETAILS_MAX_BYTES:
            raise ValueError(f"is too large (maximum is {DETAILS_MAX_BYTES} bytes of JSON)")
        if b"\\u0000" in encoded:
            raise ValueError("must not contain NUL characters")
        return value

    @model_validator(mode="after")
    def _entity_reference(self) -> EventIn:
        needs_reference = self.entity_type != "Instance"
        if needs_reference and self.entity_id is None and self.entity_path is None:
            raise ValueError("entity_id or entity_path is required")
        return self

    def item(self) -> IngestItem:
        target = None
        if self.target is not None:
            target = Target(self.target.id, self.target.type, self.target.details)
        return IngestItem(
            event_type=self.event_type,
            entity_type=EntityType(self.entity_type),
            entity_id=self.entity_id,
            entity_path=self.entity_path,
            author_id=self.author.id,
            author_name=self.author.name,
            target=target,
            details=self.details,
            custom_message=self.custom_message,
            ip_address=self.ip_address,
            created_at=self.created_at,
            stream_only=self.stream_only,
        )


_EVENTS = TypeAdapter(list[EventIn])


def parse_events(body: bytes) -> tuple[list[IngestItem], bool]:
    """The events of a request body (one object or a list), and whether it was a single object.

    A malformed event rejects the whole body with a message naming the field, e.g.
    `events[3].entity_type`.
    """
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidInput("body is not valid JSON", "body") from None
    single = isinstance(data, dict)
    if single:
        data = [data]
    if not isinstance(data, list):
        raise InvalidInput("body must be an event object or a list of events", "body")
    if not data:
        raise InvalidInput("events must not be empty", "events")
    if len(data) > MAX_EVENTS_PER_REQUEST:
        raise InvalidInput(
            f"events is too long (maximum is {MAX_EVENTS_PER_REQUEST} events)", "events"
        )
    try:
        events = _EVENTS.validate_python(data)
    except ValidationError as error:
        message, field = describe(error, prefix="events")
        if single:
            message = message.replace("events[0].", "").replace("events[0]", "event")
            field = field.replace("events[0].", "")
        raise InvalidInput(message, field) from None
    return [event.item() for event in events], single
