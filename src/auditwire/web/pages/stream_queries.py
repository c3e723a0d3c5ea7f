"""What the streams pages ask of the GraphQL API: one owner value (a group or the instance)
names the fields, mutations and ID types of its family, so the pages never branch on it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from auditwire.services.container import Services
from auditwire.services.context import Actor
from auditwire.web import gql

HEALTH = (
    "health { state pendingCount failedCount consecutiveFailures lastSuccessAt lastFailureAt "
    "lastError }"
)
DELIVERIES_SHOWN = 20  # recent delivery attempts on a destination's page

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
    ("AWS region", "aws_region"),
    ("The replay window", "replay"),
)
# A config rule's message names its key: "Config bucketName is too long (…)".
_CONFIG_KEY = re.compile(r"\AConfig ([A-Za-z]+)\b")


def errors_by_field(
    messages: list[str], default: str = "base", kind: Kind | None = None
) -> dict[str, list[str]]:
    """GitLab's messages, each beside the field it concerns (the form's top otherwise); the
    consolidated rules' "Secret token" is the kind's own secret."""
    placed: dict[str, list[str]] = {}
    for message in messages:
        name = next((f for prefix, f in _FIELD_OF_MESSAGE if message.startswith(prefix)), default)
        if (key := _CONFIG_KEY.match(message)) is not None:
            name = snake_case(key.group(1))
        elif message.startswith("Secret token") and kind is not None and kind.secret:
            name = snake_case(kind.secret)
        placed.setdefault(name, []).append(message)
    return placed


def snake_case(name: str) -> str:
    """A GraphQL argument's form field: `googleProjectIdName` is `google_project_id_name`."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


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
    payload: str  # the create and update payloads' field holding the destination
    node_fields: str
    settings: tuple[str, ...]  # the create and update arguments the form edits
    summary: str  # what the streams list shows of it
    secret: str | None = None  # the argument never shown back: empty on update = unchanged


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
        http = "instanceExternalAuditEventDestination" if i else "externalAuditEventDestination"
        gcp = "instanceGoogleCloudLoggingConfiguration" if i else "googleCloudLoggingConfiguration"
        aws = f"auditEvents{self.prefix}AmazonS3Configuration"
        return [
            Kind(
                "http",
                "HTTP endpoint",
                f"{http}s",
                f"{http}Create",
                f"{http}Update",
                f"{http}Destroy",
                http,
                "destinationUrl verificationToken eventTypeFilters "
                "headers { nodes { id key value active } }"
                + ("" if i else " namespaceFilter { id namespace { fullPath } }"),
                ("destinationUrl",),
                "destinationUrl",
            ),
            Kind(
                "gcp",
                "Google Cloud Logging",
                f"{gcp}s",
                f"{gcp}Create",
                f"{gcp}Update",
                f"{gcp}Destroy",
                gcp,
                "googleProjectIdName clientEmail logIdName",
                ("googleProjectIdName", "clientEmail", "logIdName"),
                "googleProjectIdName logIdName",
                "privateKey",
            ),
            Kind(
                "aws",
                "AWS S3",
                f"{aws}s" if i else "amazonS3Configurations",
                f"{aws}Create",
                f"{aws}Update",
                f"{aws}Delete",
                "instanceAmazonS3Configuration" if i else "amazonS3Configuration",
                "accessKeyXid bucketName awsRegion",
                ("accessKeyXid", "bucketName", "awsRegion"),
                "bucketName awsRegion",
                "secretAccessKey",
            ),
        ]

    def kind(self, key: str) -> Kind | None:
        return next((k for k in self.kinds() if k.key == key), None)

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


def _selection(kind: Kind, extra: str) -> str:
    return f"{kind.list_field} {{ nodes {{ id name active {HEALTH} {extra} }} }}"


@dataclass(frozen=True, slots=True)
class Listed:
    kind: Kind
    id: int
    node: dict[str, Any]


async def list_destinations(svc: Services, actor: Actor, owner: Owner) -> list[Listed] | None:
    """Every destination of every kind, or None when the viewer may not manage the owner's
    destinations (the API answers null for them)."""
    kinds = owner.kinds()
    selection = " ".join(_selection(k, k.summary) for k in kinds)
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


async def find_destination(
    svc: Services, actor: Actor, owner: Owner, kind: Kind, destination_id: int, outcome: str | None
) -> dict[str, Any] | None:
    """One destination with its details and recent deliveries, or None when it is not there
    or not the viewer's to manage."""
    outcome_arg = f", outcome: {outcome}" if outcome else ""
    extra = (
        f"{kind.node_fields} deliveries(first: {DELIVERIES_SHOWN}{outcome_arg}) {{ nodes {{ "
        "eventId eventType attemptedAt statusCode durationMs error outcome } }"
    )
    document, variables = owner.wrap(_selection(kind, extra))
    answer = await gql.run(svc, actor, document, variables)
    holder = owner.holder(answer.data)
    found = (holder or {}).get(kind.list_field) or {}
    return next((n for n in found.get("nodes", []) if numeric_id(n["id"]) == destination_id), None)
