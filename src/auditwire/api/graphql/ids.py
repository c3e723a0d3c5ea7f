"""GitLab's global IDs (`gid://gitlab/<Model>/<id>`) and the typed ID scalars of its schema."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

from auditwire.domain.owner import OwnerKind

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
GROUP_STREAMING_DESTINATION = "AuditEvents::Group::ExternalStreamingDestination"
INSTANCE_STREAMING_DESTINATION = "AuditEvents::Instance::ExternalStreamingDestination"
GROUP_NAMESPACE_FILTER = "AuditEvents::Group::NamespaceFilter"
INSTANCE_NAMESPACE_FILTER = "AuditEvents::Instance::NamespaceFilter"
GCP_CONFIGURATION = "AuditEvents::GoogleCloudLoggingConfiguration"
INSTANCE_GCP_CONFIGURATION = "AuditEvents::Instance::GoogleCloudLoggingConfiguration"
S3_CONFIGURATION = "AuditEvents::AmazonS3Configuration"
INSTANCE_S3_CONFIGURATION = "AuditEvents::Instance::AmazonS3Configuration"

# One destination is one row, seen through several API families: each names it by a model
# of its own. The owner kind each model's ids belong to:
DESTINATION_MODELS: dict[str, OwnerKind] = {
    DESTINATION: OwnerKind.GROUP,
    GROUP_STREAMING_DESTINATION: OwnerKind.GROUP,
    GCP_CONFIGURATION: OwnerKind.GROUP,
    S3_CONFIGURATION: OwnerKind.GROUP,
    INSTANCE_DESTINATION: OwnerKind.INSTANCE,
    INSTANCE_STREAMING_DESTINATION: OwnerKind.INSTANCE,
    INSTANCE_GCP_CONFIGURATION: OwnerKind.INSTANCE,
    INSTANCE_S3_CONFIGURATION: OwnerKind.INSTANCE,
}

# Input arguments carry a typed global ID; resolvers receive the numeric id.
DestinationID = NewType("DestinationID", int)
HeaderID = NewType("HeaderID", int)
NamespaceFilterID = NewType("NamespaceFilterID", int)
InstanceDestinationID = NewType("InstanceDestinationID", int)
InstanceHeaderID = NewType("InstanceHeaderID", int)
GroupStreamingDestinationID = NewType("GroupStreamingDestinationID", int)
InstanceStreamingDestinationID = NewType("InstanceStreamingDestinationID", int)
GroupNamespaceFilterID = NewType("GroupNamespaceFilterID", int)
InstanceNamespaceFilterID = NewType("InstanceNamespaceFilterID", int)
GcpConfigurationID = NewType("GcpConfigurationID", int)
InstanceGcpConfigurationID = NewType("InstanceGcpConfigurationID", int)
S3ConfigurationID = NewType("S3ConfigurationID", int)
InstanceS3ConfigurationID = NewType("InstanceS3ConfigurationID", int)


@dataclass(frozen=True, slots=True)
class AnyDestinationID:
    """A destination's id given by the global ID of any family, and the owner kind it tells."""

    id: int
    kind: OwnerKind
    model: str

    def __int__(self) -> int:
        return self.id


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


def parse_any_destination(value: object) -> AnyDestinationID:
    """A destination's global ID of any family: legacy HTTP, consolidated, GCP or S3."""
    text = value if isinstance(value, str) else str(value)
    model = text[len(GID_PREFIX) :].rpartition("/")[0] if text.startswith(GID_PREFIX) else ""
    kind = DESTINATION_MODELS.get(model)
    if kind is None:
        parse_gid(text, model)  # not a global ID at all: GitLab's words for that
        raise ValueError(f'"{text}" does not represent an audit event streaming destination')
    return AnyDestinationID(parse_gid(text, model), kind, model)


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
    GroupStreamingDestinationID: _scalar(
        "AuditEventsGroupExternalStreamingDestinationID", GROUP_STREAMING_DESTINATION
    ),
    InstanceStreamingDestinationID: _scalar(
        "AuditEventsInstanceExternalStreamingDestinationID", INSTANCE_STREAMING_DESTINATION
    ),
    GroupNamespaceFilterID: _scalar("AuditEventsGroupNamespaceFilterID", GROUP_NAMESPACE_FILTER),
    InstanceNamespaceFilterID: _scalar(
        "AuditEventsInstanceNamespaceFilterID", INSTANCE_NAMESPACE_FILTER
    ),
    GcpConfigurationID: _scalar("AuditEventsGoogleCloudLoggingConfigurationID", GCP_CONFIGURATION),
    InstanceGcpConfigurationID: _scalar(
        "AuditEventsInstanceGoogleCloudLoggingConfigurationID", INSTANCE_GCP_CONFIGURATION
    ),
    S3ConfigurationID: _scalar("AuditEventsAmazonS3ConfigurationID", S3_CONFIGURATION),
    InstanceS3ConfigurationID: _scalar(
        "AuditEventsInstanceAmazonS3ConfigurationID", INSTANCE_S3_CONFIGURATION
    ),
    AnyDestinationID: strawberry.scalar(
        name="AuditEventsStreamingDestinationID",
        description="Global ID of an audit event streaming destination, of any family: "
        + ", ".join(f"`{GID_PREFIX}{model}/<id>`" for model in DESTINATION_MODELS)
        + ".",
        serialize=lambda value: str(gid(value.model, value.id)),
        parse_value=parse_any_destination,
    ),
}
