"""The audit events that changes to streaming destinations record, built in one place for a
group's and the instance's destinations, whoever makes the change (a person through an API,
or auditwire itself when a destination answers 410 Gone). Pure values, no I/O.

Events never carry a secret token, a signing secret, a header value or URL credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from auditwire.domain.categories import HTTP
from auditwire.domain.destinations import URL_TAKEN, Destination, Header
from auditwire.domain.events import (
    INSTANCE_ENTITY_ID,
    INSTANCE_ENTITY_PATH,
    SYSTEM_AUTHOR,
    Author,
    EntityType,
    NewAuditEvent,
    Target,
)
from auditwire.domain.owner import Owner

GROUP_DESTINATION_CLASS = "AuditEvents::ExternalAuditEventDestination"
INSTANCE_DESTINATION_CLASS = "AuditEvents::InstanceExternalAuditEventDestination"
GROUP_STREAMING_DESTINATION_CLASS = "AuditEvents::Group::ExternalStreamingDestination"
INSTANCE_STREAMING_DESTINATION_CLASS = "AuditEvents::Instance::ExternalStreamingDestination"
GROUP_HEADER_CLASS = "AuditEvents::Streaming::Header"
INSTANCE_HEADER_CLASS = "AuditEvents::Streaming::InstanceHeader"
GONE_MESSAGE = "Changed active from true to false: the destination answered 410 Gone"


@dataclass(frozen=True, slots=True)
class Family:
    """How one API family names the events of its changes and words what it refuses.

    `events` maps an action (`create`, `update`, `destroy`) to the group's and the instance's
    event types; `url_field` names a URL change in an update event."""

    events: Mapping[str, tuple[str, str]]
    url_field: str
    taken_message: str  # `{keys}`: the config keys whose values are already used
    category: str | None = None  # the one category whose rows this family shows; None: any

    def event_type(self, action: str, owner: Owner) -> str:
        group_type, instance_type = self.events[action]
        return instance_type if owner.is_instance else group_type

    def taken(self, keys: tuple[str, ...]) -> str:
        return self.taken_message.format(keys=", ".join(keys))


LEGACY_HTTP = Family(
    events={
        "create": (
            "create_event_streaming_destination",
            "create_instance_event_streaming_destination",
        ),
        "update": (
            "update_event_streaming_destination",
            "update_instance_event_streaming_destination",
        ),
        "destroy": (
            "destroy_event_streaming_destination",
            "destroy_instance_event_streaming_destination",
        ),
    },
    url_field="destination_url",
    taken_message=URL_TAKEN,
    category=HTTP,
)

CONSOLIDATED = Family(
    events={
        "create": (
            "created_group_audit_event_streaming_destination",
            "created_instance_audit_event_streaming_destination",
        ),
        "update": (
            "updated_group_audit_event_streaming_destination",
            "updated_instance_audit_event_streaming_destination",
        ),
        "destroy": (
            "deleted_group_audit_event_streaming_destination",
            "deleted_instance_audit_event_streaming_destination",
        ),
    },
    url_field="config",
    taken_message="Config {keys} already taken.",
)


def destination_event(
    owner: Owner,
    author: Author,
    event_type: str,
    message: str,
    target: Target,
    details: Mapping[str, Any] | None = None,
    ip_address: str | None = None,
) -> NewAuditEvent:
    """An event of the owner: the group's (routed to its destinations) or the instance's."""
    group = owner.group
    if group is None:
        return NewAuditEvent(
            event_type=event_type,
            author=author,
            entity_type=EntityType.INSTANCE,
            entity_id=INSTANCE_ENTITY_ID,
            entity_path=INSTANCE_ENTITY_PATH,
            target=target,
            ip_address=ip_address,
            custom_message=message,
            details=dict(details or {}),
        )
    return NewAuditEvent(
        event_type=event_type,
        author=author,
        entity_type=EntityType.GROUP,
        entity_id=group.id,
        entity_path=group.full_path,
        target=target,
        ip_address=ip_address,
        custom_message=message,
        details=dict(details or {}),
        root_group_id=group.id,  # destinations belong to top-level groups only
    )


def _target_class(category: str, instance: bool) -> str:
    """The model GitLab names a destination of this kind by (http keeps its older names)."""
    if category == HTTP:
        return INSTANCE_DESTINATION_CLASS if instance else GROUP_DESTINATION_CLASS
    return INSTANCE_STREAMING_DESTINATION_CLASS if instance else GROUP_STREAMING_DESTINATION_CLASS


def destination_target(destination: Destination) -> Target:
    """The destination as an event's target."""
    cls = _target_class(destination.category, destination.is_instance)
    return Target(destination.id, cls, destination.name)


def header_target(owner: Owner, header: Header) -> Target:
    cls = INSTANCE_HEADER_CLASS if owner.is_instance else GROUP_HEADER_CLASS
    return Target(header.id, cls, header.key)


def header_event_type(owner: Owner, action: str) -> str:
    family = (
        "audit_events_streaming_instance_headers"
        if owner.is_instance
        else "audit_events_streaming_headers"
    )
    return f"{family}_{action}"


def deactivation_event(
    owner: Owner, destination_id: int, name: str, category: str
) -> NewAuditEvent:
    """What auditwire records when it deactivates a destination that answered 410 Gone."""
    return destination_event(
        owner,
        SYSTEM_AUTHOR,
        LEGACY_HTTP.event_type("update", owner),
        GONE_MESSAGE,
        Target(destination_id, _target_class(category, owner.is_instance), name),
        {"change": "active", "from": True, "to": False},
    )
