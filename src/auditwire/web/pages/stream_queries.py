"""What the streams pages ask of the GraphQL API: one owner value (a group or the instance)
names the fields, mutations and ID types of its family, so the pages never branch on it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import get_named_type

from auditwire.api.graphql.schema import schema
from auditwire.services.container import Services
from auditwire.services.context import Actor
from auditwire.web import gql

HEALTH = (
    "health { state pendingCount failedCount consecutiveFailures lastSuccessAt lastFailureAt "
    "lastError }"
)
DELIVERIES_SHOWN = 20  # recent delivery attempts on a destination's page
GID_PREFIX = "gid://gitlab/"

# Which form field a mutation's error concerns, by how GitLab's message begins.
_FIELD_OF_MESSAGE = (
    ("Name ", "name"),
    ("Destination url", "destination_url"),
    ("Verification token", "verification_token"),
    ("Key ", "headers"),
    ("Value ", "headers"),
    ("Headers ", "headers"),
    ("Validation failed: Audit event type", "event_types"),
    ("Couldn't find event type", "event_types"),
    ("External audit event destination", "namespace_filter"),
    ("One and only one of [groupPath, projectPath]", "namespace_filter"),
    ("Google project id name", "google_project_id_name"),
    ("Client email", "client_email"),
    ("Log id name", "log_id_name"),
    ("Private key", "private_key"),
    ("Access key xid", "access_key_xid"),
    ("Secret access key", "secret_access_key"),
    ("Bucket name", "bucket_name"),
    ("Aws region", "aws_region"),
    ("The replay window", "replay"),
)


def errors_by_field(messages: list[str], default: str = "base") -> dict[str, list[str]]:
    """GitLab's messages, each beside the field it concerns (the form's top otherwise)."""
    placed: dict[str, list[str]] = {}
    for message in messages:
        name = next((f for prefix, f in _FIELD_OF_MESSAGE if message.startswith(prefix)), default)
        placed.setdefault(name, []).append(message)
    return placed


def numeric_id(gid: str) -> int | None:
    tail = gid.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else None


@dataclass(frozen=True, slots=True)
class Kind:
    """A destination kind as GraphQL offers it for one owner."""

    key: str  # http, gcp, aws
    label: str
    list_field: str
    create: str
    update: str
    destroy: str
    id_type: str
    node_fields: str


@dataclass(frozen=True, slots=True)
class Owner:
    """The owner of destinations: a top-level group (by path), or the instance (None)."""

    group_path: str | None

    @property
    def instance(self) -> bool:
        return self.group_path is None

    @property
    def base(self) -> str:
        if self.group_path is None:
            return "/admin/audit_logs"
        return f"/groups/{self.group_path}/-/audit_events"

    @property
    def streams_url(self) -> str:
        return f"{self.base}?tab=streams"

    def destination_url(self, kind: str, destination_id: int) -> str:
        return f"{self.base}/streams/{kind}/{destination_id}"

    @property
    def prefix(self) -> str:
        """The instance family's infix in GraphQL names."""
        return "Instance" if self.instance else ""

    def kinds(self) -> list[Kind]:
        i = self.instance
        http_family = (
            "instanceExternalAuditEventDestination" if i else "externalAuditEventDestination"
        )
        http = Kind(
            "http",
            "HTTP endpoint",
            "instanceExternalAuditEventDestinations" if i else "externalAuditEventDestinations",
            f"{http_family}Create",
            f"{http_family}Update",
            f"{http_family}Destroy",
            f"AuditEvents{'Instance' if i else ''}ExternalAuditEventDestinationID",
            "destinationUrl verificationToken eventTypeFilters "
            "headers { nodes { id key value active } }"
            + ("" if i else " namespaceFilter { id namespace { fullPath } }"),
        )
        gcp = Kind(
            "gcp",
            "Google Cloud Logging",
            "instanceGoogleCloudLoggingConfigurations" if i else "googleCloudLoggingConfigurations",
            f"{'instance' if i else ''}{'G' if i else 'g'}oogleCloudLoggingConfigurationCreate",
            f"{'instance' if i else ''}{'G' if i else 'g'}oogleCloudLoggingConfigurationUpdate",
            f"{'instance' if i else ''}{'G' if i else 'g'}oogleCloudLoggingConfigurationDestroy",
            f"AuditEvents{'Instance' if i else ''}GoogleCloudLoggingConfigurationID",
            "googleProjectIdName clientEmail logIdName",
        )
        aws = Kind(
            "aws",
            "AWS S3",
            "auditEventsInstanceAmazonS3Configurations" if i else "amazonS3Configurations",
            f"auditEvents{self.prefix}AmazonS3ConfigurationCreate",
            f"auditEvents{self.prefix}AmazonS3ConfigurationUpdate",
            f"auditEvents{self.prefix}AmazonS3ConfigurationDelete",
            f"AuditEvents{self.prefix}AmazonS3ConfigurationID",
            "accessKeyXid bucketName awsRegion",
        )
        return [http, gcp, aws]

    def kind(self, key: str) -> Kind | None:
        return next((k for k in self.kinds() if k.key == key), None)

    @property
    def holder_type(self) -> str:
        return "Query" if self.instance else "Group"

    def available(self, kind: Kind) -> bool:
        """Whether the schema offers this kind to this owner yet."""
        return gql.has_field(self.holder_type, kind.list_field) and gql.has_mutation(kind.create)

    def wrap(self, selection: str) -> tuple[str, dict[str, Any]]:
        """A query document around `selection`, under the group for a group owner."""
        if self.instance:
            return f"query {{ {selection} }}", {}
        return (
            f"query($path: ID!) {{ group(fullPath: $path) {{ {selection} }} }}",
            {"path": self.group_path},
        )

    def holder(self, data: dict[str, Any]) -> dict[str, Any] | None:
        if self.instance:
            return data
        group = data.get("group")
        return group if isinstance(group, dict) else None


def _node_has(holder_type: str, list_field: str, name: str) -> bool:
    holder = schema._schema.get_type(holder_type)
    fields = getattr(holder, "fields", {})
    if list_field not in fields:
        return False
    connection = get_named_type(fields[list_field].type)
    nodes = getattr(connection, "fields", {}).get("nodes")
    node = get_named_type(nodes.type) if nodes else None
    return name in getattr(node, "fields", {})


def _selection(owner: Owner, kind: Kind, extra: str) -> str:
    health = HEALTH if _node_has(owner.holder_type, kind.list_field, "health") else ""
    return f"{kind.list_field} {{ nodes {{ id name active {health} {extra} }} }}"


@dataclass(frozen=True, slots=True)
class Listed:
    kind: Kind
    id: int
    node: dict[str, Any]


async def list_destinations(
    svc: Services, actor: Actor, owner: Owner, *, details: bool = False
) -> list[Listed] | None:
    """Every destination of every kind the schema offers, or None when the viewer may not
    manage the owner's destinations (the API answers null for them)."""
    kinds = [k for k in owner.kinds() if gql.has_field(owner.holder_type, k.list_field)]
    selection = " ".join(
        _selection(owner, k, k.node_fields if details else _summary(k)) for k in kinds
    )
    document, variables = owner.wrap(selection)
    answer = await gql.run(svc, actor, document, variables)
    holder = owner.holder(answer.data)
    if holder is None or holder.get(kinds[0].list_field) is None:
        return None
    listed = []
    for kind in kinds:
        for node in (holder.get(kind.list_field) or {}).get("nodes", []):
            key = numeric_id(node["id"])
            if key is not None:
                listed.append(Listed(kind, key, node))
    return listed


def _summary(kind: Kind) -> str:
    return {
        "http": "destinationUrl",
        "gcp": "googleProjectIdName logIdName",
        "aws": "bucketName awsRegion",
    }[kind.key]


async def find_destination(
    svc: Services, actor: Actor, owner: Owner, kind: Kind, destination_id: int, outcome: str | None
) -> dict[str, Any] | None:
    """One destination with its details and recent deliveries, or None when it is not there
    or not the viewer's to manage."""
    extra = kind.node_fields
    if _node_has(owner.holder_type, kind.list_field, "deliveries"):
        outcome_arg = f", outcome: {outcome}" if outcome else ""
        extra += (
            f" deliveries(first: {DELIVERIES_SHOWN}{outcome_arg}) {{ nodes {{ eventId eventType "
            "attemptedAt statusCode durationMs error outcome } }"
        )
    document, variables = owner.wrap(_selection(owner, kind, extra))
    answer = await gql.run(svc, actor, document, variables)
    holder = owner.holder(answer.data)
    found = (holder or {}).get(kind.list_field) or {}
    return next((n for n in found.get("nodes", []) if numeric_id(n["id"]) == destination_id), None)


def gid(kind: Kind, destination_id: int) -> str:
    class_name = kind.id_type.removeprefix("AuditEvents").removesuffix("ID")
    return f"{GID_PREFIX}AuditEvents::{class_name}/{destination_id}"
