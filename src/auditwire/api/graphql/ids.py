"""GitLab's global IDs (`gid://gitlab/<Model>/<id>`) and the typed ID scalars of its schema."""

from __future__ import annotations

from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

GID_PREFIX = "gid://gitlab/"
MAX_ID = 2**63 - 1  # the largest id a BIGINT column holds

GROUP = "Group"
PROJECT = "Project"
USER = "User"
DESTINATION = "AuditEvents::ExternalAuditEventDestination"
HEADER = "AuditEvents::Streaming::Header"
NAMESPACE_FILTER = "AuditEvents::Streaming::HTTP::NamespaceFilter"
INSTANCE_DESTINATION = "AuditEvents::InstanceExternalAuditEventDestination"
INSTANCE_HEADER = "AuditEvents::Streaming::InstanceHeader"
PROJECT_NAMESPACE = "Namespaces::ProjectNamespace"

# Input arguments carry a typed global ID; resolvers receive the numeric id.
DestinationID = NewType("DestinationID", int)
HeaderID = NewType("HeaderID", int)
NamespaceFilterID = NewType("NamespaceFilterID", int)
InstanceDestinationID = NewType("InstanceDestinationID", int)
InstanceHeaderID = NewType("InstanceHeaderID", int)


def gid(model: str, record_id: int) -> strawberry.ID:
    return strawberry.ID(f"{GID_PREFIX}{model}/{record_id}")


def parse_gid(value: object, model: str) -> int:
    """The numeric id of a global ID of `model`; ValueError (GitLab's words) for anything else."""
    text = value if isinstance(value, str) else str(value)
    if not text.startswith(GID_PREFIX):
        raise ValueError(f'"{text}" is not a valid Global ID')
    found_model, _, raw = text[len(GID_PREFIX) :].rpartition("/")
    if not raw.isascii() or not raw.isdigit() or not found_model:
        raise ValueError(f'"{text}" is not a valid Global ID')
    if found_model != model:
        raise ValueError(f'"{text}" does not represent an instance of {model}')
    number = int(raw)
    if number > MAX_ID:
        raise ValueError(f'"{text}" is not a valid Global ID')
    return number


def _scalar(name: str, model: str) -> ScalarDefinition:
    definition: ScalarDefinition = strawberry.scalar(
        name=name,
        description=f"Global ID of a `{model}`: `{GID_PREFIX}{model}/<id>`.",
        serialize=lambda value: str(gid(model, int(value))),
        parse_value=lambda value: parse_gid(value, model),
    )
    return definition


SCALARS: dict[object, ScalarDefinition] = {
    DestinationID: _scalar("AuditEventsExternalAuditEventDestinationID", DESTINATION),
    HeaderID: _scalar("AuditEventsStreamingHeaderID", HEADER),
    NamespaceFilterID: _scalar("AuditEventsStreamingHTTPNamespaceFilterID", NAMESPACE_FILTER),
    InstanceDestinationID: _scalar(
        "AuditEventsInstanceExternalAuditEventDestinationID", INSTANCE_DESTINATION
    ),
    InstanceHeaderID: _scalar("AuditEventsStreamingInstanceHeaderID", INSTANCE_HEADER),
}
