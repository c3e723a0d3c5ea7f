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
    ("Config takes site or url", "site"),
    ("Config batch needs", "format"),
)
# A config rule's message names its key: "Config bucketName is too long (…)", or its path:
# "Config batch.maxEvents must be less than or equal to 1000".
_CONFIG_KEY = re.compile(r"\AConfig ([A-Za-z]+(?:\.[A-Za-z]+)?)\b")


def errors_by_field(
    messages: list[str], default: str = "base", kind: Kind | None = None
) -> dict[str, list[str]]:
    """GitLab's messages, each beside the field it concerns (the form's top otherwise); the
    consolidated rules' "Secret token" is the kind's own secret."""
    placed: dict[str, list[str]] = {}
    for message in messages:
        name = next((f for prefix, f in _FIELD_OF_MESSAGE if message.startswith(prefix)), default)
        if (key := _CONFIG_KEY.match(message)) is not None and name == default:
            name = snake_case(key.group(1))
            name = dict(kind.renamed).get(name, name) if kind is not None else name
        elif message.startswith("Secret token") and kind is not None and kind.secret:
            name = snake_case(kind.secret)
        placed.setdefault(name, []).append(message)
    return placed


def snake_case(name: str) -> str:
    """A GraphQL argument's form field: `googleProjectIdName` is `google_project_id_name`,
    the config path `batch.maxEvents` is `batch_max_events`."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).replace(".", "_")


def numeric_id(gid: str) -> int | None:
    tail = gid.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else None


@dataclass(frozen=True, slots=True)
class Kind:
    """A destination kind as GraphQL offers it for one owner."""

    key: str  # http, gcp, aws, splunk, datadog
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
    # A kind of the consolidated API alone: its category, and the config keys its form edits.
    category: str | None = None
    config_keys: tuple[str, ...] = ()
    # http: its layout (config format and batch) is edited through the consolidated API.
    layout: bool = False
    renamed: tuple[tuple[str, str], ...] = ()  # config keys whose form field is named otherwise


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

    @property
    def streaming(self) -> str:
        """The consolidated API's name for the owner's destinations, as in its mutations."""
        if self.instance:
            return "instanceAuditEventStreamingDestinations"
        return "groupAuditEventStreamingDestinations"

    @property
    def streaming_list(self) -> str:
        if self.instance:
            return "auditEventsInstanceStreamingDestinations"
        return "externalAuditEventStreamingDestinations"

    def _consolidated(self, key: str, label: str, config_keys: tuple[str, ...]) -> Kind:
        """A kind only the consolidated API offers: its settings are its config's keys."""
        return Kind(
            key,
            label,
            self.streaming_list,
            f"{self.streaming}Create",
            f"{self.streaming}Update",
            f"{self.streaming}Delete",
            "externalAuditEventDestination",
            "category config",
            (),
            "category config",
            "secretToken",
            category=key,
            config_keys=config_keys,
        )

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
                layout=True,
                renamed=(("url", "destination_url"),),
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
            self._consolidated(
                "splunk",
                "Splunk HTTP Event Collector",
                ("url", "index", "source", "sourcetype", "host"),
            ),
            self._consolidated(
                "datadog", "Datadog", ("site", "url", "service", "ddsource", "ddtags")
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
    """The kind's destinations under its own key: kinds of one list field are told apart."""
    return f"{kind.key}: {kind.list_field} {{ nodes {{ id name active {HEALTH} {extra} }} }}"


def _nodes(kind: Kind, holder: dict[str, Any] | None) -> list[dict[str, Any]]:
    nodes = ((holder or {}).get(kind.key) or {}).get("nodes", [])
    if kind.category is None:
        return list(nodes)
    return [node for node in nodes if node.get("category") == kind.category]


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
    if holder is None or holder.get(kinds[0].key) is None:
        return None
    listed = []
    for kind in kinds:
        for node in _nodes(kind, holder):
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
        "eventId lastEventId eventCount eventType attemptedAt statusCode durationMs error outcome "
        "} }"
    )
    selection = _selection(kind, extra)
    if kind.layout:  # the same row in the consolidated API, for its config
        selection += f" layouts: {owner.streaming_list} {{ nodes {{ id config }} }}"
    document, variables = owner.wrap(selection)
    answer = await gql.run(svc, actor, document, variables)
    holder = owner.holder(answer.data)
    found = next((n for n in _nodes(kind, holder) if numeric_id(n["id"]) == destination_id), None)
    if found is not None and kind.layout:
        layouts = ((holder or {}).get("layouts") or {}).get("nodes", [])
        same: dict[str, Any] = next(
            (n for n in layouts if numeric_id(n["id"]) == destination_id), {}
        )
        found = {**found, "config": same.get("config") or {}, "streamingId": same.get("id")}
    return found
