"""Streaming destinations, their headers and filters: values and GitLab's rules, no I/O.

A destination belongs to a top-level group (`group_id`) or, when `group_id` is None, to the
instance (see `domain.owner`). It has a `category` (its kind) with a per-category `config`
(see `domain.categories`) and a `secret_token`. Messages are GitLab's own wording
(`errors.full_messages` of its models), so that clients written for GitLab show the same text.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from yarl import URL

from auditwire.config import Plan
from auditwire.domain.addresses import is_noncanonical_ip
from auditwire.domain.categories import HTTP, has_control_characters
from auditwire.domain.namespaces import AccessLevel, User
from auditwire.errors import InvalidInput

MAX_ACTIVE_DESTINATIONS = 5  # per group, and for the instance; per category
MAX_NAMESPACE_FILTERS = 5  # per destination (one through the legacy HTTP API)
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
HEADER_KEY_INVALID = "Key must be a header name: letters, digits and !#$%&'*+-.^_`|~ only"
HEADER_VALUE_INVALID = "Value must not contain line breaks, NUL or other control characters"
TOKEN_INVALID = "Verification token must not contain line breaks, NUL or other control characters"
AUTHORIZATION_WITH_CREDENTIALS = (
    "Destination url carries credentials, which cannot be sent together with an "
    "Authorization header"
)
NAMESPACE_FILTERS_LIMITED = (
    f"Namespace filters are limited to {MAX_NAMESPACE_FILTERS} per destination"
)
NAMESPACE_NOT_FOUND = "namespace_path should be of group or project only."
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


_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Destination:
    """Where audit events go; `group_id` None means the instance's.

    `config` is the category's stored config (an http destination's headers are kept as
    `headers`, rows with ids of their own); `view_config` is the config as the consolidated
    API shows it. `secret_token` is an http destination's verification token, an S3
    destination's secret access key or a GCP destination's private key."""

    id: int
    group_id: int | None
    name: str
    category: str
    config: Mapping[str, Any]
    secret_token: str
    signing_secret: str
    active: bool
    created_at: datetime
    updated_at: datetime
    headers: tuple[Header, ...] = ()
    event_type_filters: tuple[EventTypeFilter, ...] = ()
    namespace_filters: tuple[NamespaceFilter, ...] = field(default=())

    @property
    def is_instance(self) -> bool:
        return self.group_id is None

    @property
    def event_types(self) -> list[str]:
        return [f.audit_event_type for f in self.event_type_filters]

    @property
    def destination_url(self) -> str:
        """An http destination's URL ('' for other kinds)."""
        return str(self.config.get("url", "")) if self.category == HTTP else ""

    @property
    def verification_token(self) -> str:
        return self.secret_token

    @property
    def namespace_filter(self) -> NamespaceFilter | None:
        """The first namespace filter: the legacy HTTP API shows one."""
        return self.namespace_filters[0] if self.namespace_filters else None

    @property
    def view_config(self) -> dict[str, Any]:
        """The config as the consolidated API shows it: an http destination's headers as
        `{name: {value, active}}`, when it has any."""
        shown = dict(self.config or _EMPTY)
        if self.category == HTTP and self.headers:
            shown["headers"] = {h.key: {"value": h.value, "active": h.active} for h in self.headers}
        return shown


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
    """A caller's own token: 16 to 24 characters, kept exactly (whitespace is not trimmed);
    it is sent as a header value, so no control characters."""
    if len(token) < TOKEN_MIN_LENGTH:
        raise InvalidInput(TOKEN_TOO_SHORT, "verificationToken")
    if len(token) > TOKEN_MAX_LENGTH:
        raise InvalidInput(TOKEN_TOO_LONG, "verificationToken")
    if has_control_characters(token):
        raise InvalidInput(TOKEN_INVALID, "verificationToken")
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


def parse_url(url: str) -> URL:
    """Check a destination URL's form (present, not too long, http/https, a host, a port
    other than 0), parsed by yarl as the sender parses it; the parsed URL.

    Whether the host may be reached is the network-aware half, in `services.url_safety`.
    """
    if not url.strip():
        raise InvalidInput(URL_BLANK, "destinationUrl")
    if len(url) > URL_MAX_LENGTH:
        raise InvalidInput(URL_TOO_LONG, "destinationUrl")
    if has_control_characters(url) or any(c.isspace() for c in url):
        raise blocked("URI is invalid")
    try:
        parsed = URL(url)
        port = parsed.port
    except (ValueError, TypeError):  # a backslash in the authority, a port out of range
        raise blocked("URI is invalid") from None
    if (parsed.scheme or "").lower() not in ALLOWED_SCHEMES:
        raise blocked("Only allowed schemes are http, https")
    if not parsed.raw_host or port == 0:
        raise blocked("URI is invalid")
    return parsed


def url_host(url: str) -> str:
    """The host of a destination URL whose form is valid (see `parse_url`)."""
    host = parse_url(url).raw_host
    assert host is not None  # parse_url refuses a URL without one
    return host


def noncanonical_ip(url: str) -> bool:
    """Whether the URL's host is an IP address in a spelling other than the usual one
    (`0x7f.1`, `2130706433`): connecting would not go where a reader of the URL expects."""
    return is_noncanonical_ip(url_host(url))


def has_credentials(url: str) -> bool:
    parsed = URL(url)
    return bool(parsed.raw_user or parsed.raw_password)


def check_authorization(url: str, header_keys: list[str]) -> None:
    """URL credentials become an Authorization header: both at once can never be sent."""
    if has_credentials(url) and any(k.strip().lower() == "authorization" for k in header_keys):
        raise InvalidInput(AUTHORIZATION_WITH_CREDENTIALS, "destinationUrl")


MASK = "*****"


def mask_url(url: str) -> str:
    """The URL with its credentials hidden: the password of its userinfo and every query
    value, which may be tokens. For audit events and logs, which are streamed everywhere."""
    try:
        parsed = URL(url)
    except (ValueError, TypeError):
        return MASK
    if parsed.raw_password:
        parsed = parsed.with_password(MASK)
    elif parsed.raw_user:
        parsed = parsed.with_user(MASK)
    if parsed.raw_query_string:
        parsed = parsed.with_query([(key, MASK) for key in parsed.query])
    return str(parsed)


_HEADER_NAME_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


def validate_header(key: str, value: str) -> None:
    """A header that can be sent: a token name (RFC 9110), a value without control
    characters, neither blank nor too long, never the streaming token's name."""
    if not key.strip():
        raise InvalidInput(HEADER_KEY_BLANK, "key")
    if len(key) > HEADER_KEY_MAX_LENGTH:
        raise InvalidInput(HEADER_KEY_TOO_LONG, "key")
    if key.strip().lower() == STREAMING_TOKEN_HEADER.lower():
        raise InvalidInput(HEADER_KEY_RESERVED, "key")
    if not set(key) <= _HEADER_NAME_CHARS:
        raise InvalidInput(HEADER_KEY_INVALID, "key")
    if not value.strip():
        raise InvalidInput(HEADER_VALUE_BLANK, "value")
    if len(value) > HEADER_VALUE_MAX_LENGTH:
        raise InvalidInput(HEADER_VALUE_TOO_LONG, "value")
    if has_control_characters(value):
        raise InvalidInput(HEADER_VALUE_INVALID, "value")


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
