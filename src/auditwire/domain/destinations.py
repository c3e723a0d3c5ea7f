"""Streaming destinations, their headers and filters: values and GitLab's rules, no I/O.

A destination belongs to a top-level group (`group_id`) or, when `group_id` is None, to the
instance. Messages are GitLab's own wording (`errors.full_messages` of its models), so that
clients written for GitLab show the same text.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from auditwire.config import Plan
from auditwire.domain.namespaces import AccessLevel, User
from auditwire.errors import InvalidInput

MAX_ACTIVE_DESTINATIONS = 5  # per group, and for the instance
URL_MAX_LENGTH = 255  # characters
NAME_MAX_LENGTH = 72  # characters
TOKEN_LENGTH = 24  # characters, generated
TOKEN_MIN_LENGTH = 16  # characters, caller-supplied
TOKEN_MAX_LENGTH = 24  # characters, caller-supplied
MAX_HEADERS = 20  # per destination
HEADER_KEY_MAX_LENGTH = 255  # characters
HEADER_VALUE_MAX_LENGTH = 2000  # characters
EVENT_TYPE_MAX_LENGTH = 255  # characters
# Event types one call may add or remove. GitLab bounds the list only by its JSON limits
# (50,000 elements); a thousand is more than the event types there are, and keeps one call's
# write transaction short.
MAX_EVENT_TYPES_PER_CALL = 1_000
ALLOWED_SCHEMES = ("http", "https")

# The header every streamed event carries; a custom header may never replace it.
STREAMING_TOKEN_HEADER = "X-Gitlab-Event-Streaming-Token"
# Bitcoin's base58: no 0, O, I or l, so a token read aloud or copied by hand stays intact.
BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

# GitLab's messages.
SUBGROUP_NOT_ALLOWED = "Group must not be a subgroup"
URL_BLANK = "Destination url can't be blank"
URL_TOO_LONG = f"Destination url is too long (maximum is {URL_MAX_LENGTH} characters)"
URL_TAKEN = "Destination url has already been taken"
URL_BLOCKED = "Destination url is blocked: {reason}"
NAME_BLANK = "Name can't be blank"
NAME_TOO_LONG = f"Name is too long (maximum is {NAME_MAX_LENGTH} characters)"
NAME_TAKEN = "Name has already been taken"
TOO_MANY_DESTINATIONS = (
    f"Maximum number of external audit event destinations ({MAX_ACTIVE_DESTINATIONS}) exceeded"
)
TOKEN_TOO_SHORT = f"Verification token is too short (minimum is {TOKEN_MIN_LENGTH} characters)"
TOKEN_TOO_LONG = f"Verification token is too long (maximum is {TOKEN_MAX_LENGTH} characters)"
TOO_MANY_HEADERS = f"Headers are limited to {MAX_HEADERS} per destination"
HEADER_KEY_BLANK = "Key can't be blank"
HEADER_KEY_TOO_LONG = f"Key is too long (maximum is {HEADER_KEY_MAX_LENGTH} characters)"
HEADER_KEY_TAKEN = "Key has already been taken"
HEADER_KEY_RESERVED = f"Key cannot be {STREAMING_TOKEN_HEADER}"
HEADER_VALUE_BLANK = "Value can't be blank"
HEADER_VALUE_TOO_LONG = f"Value is too long (maximum is {HEADER_VALUE_MAX_LENGTH} characters)"
EVENT_TYPES_MISSING = "event type filters must be present"
EVENT_TYPES_TOO_MANY = f"event type filters are limited to {MAX_EVENT_TYPES_PER_CALL} per request"
EVENT_TYPE_BLANK = "Validation failed: Audit event type can't be blank"
EVENT_TYPE_TOO_LONG = (
    f"Validation failed: Audit event type is too long (maximum is {EVENT_TYPE_MAX_LENGTH} "
    "characters)"
)
EVENT_TYPE_TAKEN = "Validation failed: Audit event type has already been taken"
EVENT_TYPES_UNKNOWN = "Couldn't find event type filters where audit event type(s): {types}"
NAMESPACE_FILTER_OUTSIDE = (
    "External audit event destination does not belong to the top-level group of the namespace."
)
NAMESPACE_FILTER_TAKEN = "External audit event destination has already been taken"


@dataclass(frozen=True, slots=True)
class Header:
    """A custom HTTP header sent with every event to its destination; `value` is a secret."""

    id: int
    destination_id: int
    key: str
    value: str
    active: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class EventTypeFilter:
    id: int
    destination_id: int
    audit_event_type: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NamespaceFilter:
    """Limits a group destination to one subgroup (and below) or one project."""

    id: int
    destination_id: int
    group_id: int | None
    project_id: int | None
    namespace_path: str
    namespace_name: str
    created_at: datetime

    @property
    def is_project(self) -> bool:
        return self.project_id is not None


@dataclass(frozen=True, slots=True)
class Destination:
    """An HTTP endpoint that receives audit events; `group_id` None means the instance's."""

    id: int
    group_id: int | None
    name: str
    destination_url: str
    verification_token: str
    signing_secret: str
    active: bool
    created_at: datetime
    updated_at: datetime
    headers: tuple[Header, ...] = ()
    event_type_filters: tuple[EventTypeFilter, ...] = ()
    namespace_filter: NamespaceFilter | None = None

    @property
    def is_instance(self) -> bool:
        return self.group_id is None

    @property
    def event_types(self) -> list[str]:
        return [f.audit_event_type for f in self.event_type_filters]


# Permissions ----------------------------------------------------------------------------------


def may_manage_group_destinations(user: User | None, level: AccessLevel, plan: Plan) -> bool:
    """Owners of a group on Ultimate (GitLab's `external_audit_events` licence), and admins
    whatever the plan.

    GitLab asks for the licence of administrators too (`can?(:owner_access) &
    external_audit_events_available`). auditwire does not: a group's destinations outlive a
    downgrade (its queued deliveries still go out), so an administrator must always be able
    to see and remove them.
    """
    if user is None:
        return False
    if user.is_admin:
        return True
    return plan is Plan.ULTIMATE and level >= AccessLevel.OWNER


def may_manage_instance_destinations(user: User | None) -> bool:
    return user is not None and user.is_admin


# Secrets --------------------------------------------------------------------------------------


def generate_verification_token() -> str:
    return "".join(secrets.choice(BASE58_ALPHABET) for _ in range(TOKEN_LENGTH))


def default_name() -> str:
    return f"Destination_{uuid.uuid4()}"


# Validation -----------------------------------------------------------------------------------


def validate_verification_token(token: str) -> str:
    """A caller's own token: 16 to 24 characters, kept exactly (whitespace is not trimmed)."""
    if len(token) < TOKEN_MIN_LENGTH:
        raise InvalidInput(TOKEN_TOO_SHORT, "verificationToken")
    if len(token) > TOKEN_MAX_LENGTH:
        raise InvalidInput(TOKEN_TOO_LONG, "verificationToken")
    return token


def validate_name(name: str) -> str:
    if not name.strip():
        raise InvalidInput(NAME_BLANK, "name")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(NAME_TOO_LONG, "name")
    return name


def blocked(reason: str) -> InvalidInput:
    """GitLab's `Destination url is blocked: <Reason>`, the reason capitalised as GitLab does."""
    message = URL_BLOCKED.format(reason=reason[:1].upper() + reason[1:])
    return InvalidInput(message, "destinationUrl")


def url_host(url: str) -> str:
    """Check a destination URL's form (present, not too long, http/https, a host); its host.

    Whether the host may be reached is the network-aware half, in `services.url_safety`.
    """
    if not url.strip():
        raise InvalidInput(URL_BLANK, "destinationUrl")
    if len(url) > URL_MAX_LENGTH:
        raise InvalidInput(URL_TOO_LONG, "destinationUrl")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port out of range
    except ValueError:
        raise blocked("URI is invalid") from None
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise blocked("Only allowed schemes are http, https")
    if not parts.hostname:
        raise blocked("URI is invalid")
    return parts.hostname


def validate_header(key: str, value: str) -> None:
    if not key.strip():
        raise InvalidInput(HEADER_KEY_BLANK, "key")
    if len(key) > HEADER_KEY_MAX_LENGTH:
        raise InvalidInput(HEADER_KEY_TOO_LONG, "key")
    if key.strip().lower() == STREAMING_TOKEN_HEADER.lower():
        raise InvalidInput(HEADER_KEY_RESERVED, "key")
    if not value.strip():
        raise InvalidInput(HEADER_VALUE_BLANK, "value")
    if len(value) > HEADER_VALUE_MAX_LENGTH:
        raise InvalidInput(HEADER_VALUE_TOO_LONG, "value")


def validate_event_types(event_types: list[str]) -> list[str]:
    """The event types to add or remove, once each, in the order given."""
    if not event_types:
        raise InvalidInput(EVENT_TYPES_MISSING, "eventTypeFilters")
    if len(event_types) > MAX_EVENT_TYPES_PER_CALL:
        raise InvalidInput(EVENT_TYPES_TOO_MANY, "eventTypeFilters")
    for event_type in event_types:
        if not event_type.strip():
            raise InvalidInput(EVENT_TYPE_BLANK, "eventTypeFilters")
        if len(event_type) > EVENT_TYPE_MAX_LENGTH:
            raise InvalidInput(EVENT_TYPE_TOO_LONG, "eventTypeFilters")
    return list(dict.fromkeys(event_types))


def unknown_event_types(requested: list[str], existing: list[str]) -> InvalidInput | None:
    missing = [t for t in requested if t not in existing]
    if not missing:
        return None
    return InvalidInput(EVENT_TYPES_UNKNOWN.format(types=", ".join(missing)), "eventTypeFilters")


def matches_namespace(filter_path: str, entity_path: str, is_project: bool) -> bool:
    """A group filter matches the group and everything below it; a project filter, the project."""
    if is_project:
        return entity_path == filter_path
    return entity_path == filter_path or entity_path.startswith(filter_path + "/")
