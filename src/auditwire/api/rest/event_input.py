"""The wire format of audit events sent to `POST /api/v4/audit_events`.

The shape is checked by pydantic against TypedDicts (fast: no model objects for a thousand
events); the rules that span fields, and NUL characters, are checked in plain Python after.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import UTC, datetime
from ipaddress import ip_address
from typing import Annotated, Any, Literal, NotRequired

import orjson
from pydantic import ConfigDict, Field, StrictBool, TypeAdapter, ValidationError, with_config
from typing_extensions import TypedDict

from auditwire.api.json_limits import MAX_DEPTH
from auditwire.api.rest.params import MAX_ID, describe
from auditwire.domain.events import EVENT_TYPE_MAX_LENGTH, EntityType, Target
from auditwire.errors import InvalidInput, UnsupportedMediaType
from auditwire.services.ingest import IngestItem

MAX_EVENTS_PER_REQUEST = 1_000
DETAILS_MAX_BYTES = 64 * 1024  # bytes of JSON per event
# Levels of nesting inside `details`: GitLab's JSON limit counts from the body, which holds
# the list and the event around it.
DETAILS_MAX_DEPTH = MAX_DEPTH - 2
JSON_MEDIA_TYPES = frozenset({"application/json"})
NAME_MAX_LENGTH = 255  # characters
PATH_MAX_LENGTH = 2048  # characters
TEXT_MAX_LENGTH = 4096  # characters

Name = Callable[[str], str]
Id = Annotated[int, Field(ge=-1, le=MAX_ID, strict=True)]
EntityId = Annotated[int, Field(ge=1, le=MAX_ID, strict=True)]
ShortText = Annotated[str, Field(max_length=NAME_MAX_LENGTH)]
Text = Annotated[str, Field(max_length=TEXT_MAX_LENGTH)]
_FORBID = ConfigDict(extra="forbid")


@with_config(_FORBID)
class AuthorIn(TypedDict, total=False):
    id: Id | None
    name: Annotated[str, Field(min_length=1, max_length=NAME_MAX_LENGTH)] | None


@with_config(_FORBID)
class TargetIn(TypedDict, total=False):
    id: Id | ShortText | None
    type: ShortText | None
    details: Text | None


@with_config(_FORBID)
class EventIn(TypedDict):
    event_type: Annotated[str, Field(min_length=1, max_length=EVENT_TYPE_MAX_LENGTH)]
    entity_type: Literal["Group", "Project", "User", "Instance"]
    entity_id: NotRequired[EntityId | None]
    entity_path: NotRequired[Annotated[str, Field(min_length=1, max_length=PATH_MAX_LENGTH)] | None]
    author: AuthorIn
    target: NotRequired[TargetIn | None]
    details: NotRequired[dict[str, Any]]
    custom_message: NotRequired[Text | None]
    ip_address: NotRequired[str | None]
    created_at: NotRequired[datetime | None]
    stream_only: NotRequired[StrictBool]


_EVENTS = TypeAdapter(list[EventIn])
_SCHEMA_REF = "#/components/schemas/{model}"


def body_schema() -> tuple[dict[str, Any], dict[str, Any]]:
    """The request body's JSON Schema for the OpenAPI document (one event or a list of them),
    and the component schemas it refers to by name."""
    components = TypeAdapter(EventIn).json_schema(ref_template=_SCHEMA_REF)
    components = {**components.pop("$defs", {}), "EventIn": components}
    one = {"$ref": _SCHEMA_REF.format(model="EventIn")}
    many = {"type": "array", "items": one, "minItems": 1, "maxItems": MAX_EVENTS_PER_REQUEST}
    return {"anyOf": [one, many]}, components


def _ip(value: str, name: Name) -> str:
    try:  # fast path for the common dotted-quad IPv4 address, already canonical
        socket.inet_pton(socket.AF_INET, value)
        return value
    except OSError:
        pass
    try:
        return str(ip_address(value))
    except ValueError:
        field = name("ip_address")
        raise InvalidInput(f"{field} is not an IP address", field) from None


def _utc(value: datetime, name: Name) -> datetime:
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(f"{name('created_at')} is out of range", name("created_at")) from None


def _no_nul(event: EventIn, details_json: bytes, name: Name) -> None:
    # Neither PostgreSQL text nor JSONB can hold U+0000: refuse it here, naming the field.
    author = event["author"]
    target = event.get("target") or {}
    fields = {
        "event_type": event["event_type"],
        "entity_path": event.get("entity_path"),
        "author.name": author.get("name"),
        "target.id": target.get("id"),
        "target.type": target.get("type"),
        "target.details": target.get("details"),
        "custom_message": event.get("custom_message"),
    }
    for field, value in fields.items():
        if isinstance(value, str) and "\x00" in value:
            raise InvalidInput(f"{name(field)} must not contain NUL characters", name(field))
    if b"\\u0000" in details_json:
        raise InvalidInput(f"{name('details')} must not contain NUL characters", name("details"))


def _nesting(value: Any) -> int:
    """Levels of objects and lists, counted without recursion (the parser allows 1,024)."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        deepest = max(deepest, depth)
        if deepest > DETAILS_MAX_DEPTH:
            return deepest
        children = item.values() if isinstance(item, dict) else item
        pending.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return deepest


def check_media_type(content_type: str | None) -> None:
    """Events arrive as JSON; anything else is refused before the body is parsed (415)."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type not in JSON_MEDIA_TYPES:
        raise UnsupportedMediaType(f"The provided content-type '{media_type}' is not supported.")


def to_item(event: EventIn, name: Name, check_nul: bool) -> IngestItem:
    """The service's item for one validated event; the rules that span fields."""
    author = event["author"]
    author_id, author_name = author.get("id"), author.get("name")
    if author_id is None and author_name is None:
        raise InvalidInput(f"{name('author')} needs an id or a name", name("author"))
    entity_type = EntityType(event["entity_type"])
    entity_id, entity_path = event.get("entity_id"), event.get("entity_path")
    if entity_type is not EntityType.INSTANCE and entity_id is None and entity_path is None:
        field = name("entity_path")
        raise InvalidInput(f"{field} is missing (give entity_path or entity_id)", field)
    details = event.get("details") or {}
    if _nesting(details) > DETAILS_MAX_DEPTH:
        field = name("details")
        raise InvalidInput(
            f"{field} is nested too deeply (maximum is {DETAILS_MAX_DEPTH} levels)", field
        )
    details_json = orjson.dumps(details)
    if len(details_json) > DETAILS_MAX_BYTES:
        field = name("details")
        raise InvalidInput(f"{field} is too large (maximum is {DETAILS_MAX_BYTES} bytes)", field)
    if check_nul:
        _no_nul(event, details_json, name)
    target_in = event.get("target")
    target = None
    if target_in is not None:
        target = Target(target_in.get("id"), target_in.get("type"), target_in.get("details"))
    ip = event.get("ip_address")
    created_at = event.get("created_at")
    return IngestItem(
        event_type=event["event_type"],
        entity_type=entity_type,
        entity_id=entity_id,
        entity_path=entity_path,
        author_id=author_id,
        author_name=author_name,
        target=target,
        details=details,
        custom_message=event.get("custom_message"),
        ip_address=None if ip is None else _ip(ip, name),
        created_at=None if created_at is None else _utc(created_at, name),
        stream_only=event.get("stream_only", False),
    )


def _plain(field: str) -> str:
    return field


def _indexed(index: int) -> Name:
    def name(field: str) -> str:
        return f"events[{index}].{field}"

    return name


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
    check_nul = b"\\u0000" in body
    if single:
        return [to_item(events[0], _plain, check_nul)], True
    return [to_item(event, _indexed(index), check_nul) for index, event in enumerate(events)], False
