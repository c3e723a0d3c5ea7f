"""Who may see and change streaming destinations: every query and mutation, for every role."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from auditwire.config import Plan
from auditwire.domain.events import utcnow
from auditwire.domain.namespaces import AccessLevel
from auditwire.domain.owner import Owner, OwnerKind
from auditwire.domain.tokens import Scope
from auditwire.errors import Forbidden
from auditwire.services.container import Services
from auditwire.services.context import Actor
from auditwire.services.namespaces import find_group
from auditwire.store import destinations as dest_store
from auditwire.store.schema import audit_events, members
from tests.conftest import Account, MakeAccount
from tests.integration.graphql.conftest import (
    MUTATION_NOT_ALLOWED,
    RESOURCE_NOT_AVAILABLE,
    RunGraphQL,
    destination_gid,
    gid,
)
from tests.integration.streaming.receivers import Receiver, serve
from tests.integration.streaming.sinks.google import new_private_key

ROLES = [
    "anonymous",
    "non_member",
    "guest",
    "reporter",
    "developer",
    "maintainer",
    "subgroup_owner",
    "owner_free",
    "owner_premium",
    "owner_ultimate",
    "owner_expired",
    "administrator",
    "administrator_free",
]
# Administrators see and manage a group's destinations whatever its plan.
GROUP_MANAGERS = {"owner_ultimate", "administrator", "administrator_free"}
ADMINISTRATORS = {"administrator", "administrator_free"}
GROUP_READERS = {
    "guest",
    "reporter",
    "developer",
    "maintainer",
    "owner_free",
    "owner_premium",
    "owner_ultimate",
    "administrator",
    "administrator_free",
}
MEMBER_LEVELS = {
    "guest": AccessLevel.GUEST,
    "reporter": AccessLevel.REPORTER,
    "developer": AccessLevel.DEVELOPER,
    "maintainer": AccessLevel.MAINTAINER,
}
PLANS = {"owner_free": Plan.FREE, "owner_premium": Plan.PREMIUM, "administrator_free": Plan.FREE}


@dataclass(frozen=True)
class World:
    account: Account | None
    destination: str
    header: str
    namespace_filter: str
    instance_destination: str
    instance_header: str
    kinds: dict[str, int]  # destinations of other kinds, and filters, by role in the matrix


async def build_world(role: str, services: Services, make_account: MakeAccount) -> World:
    """Group `acme` (with subgroup and project), a destination with a header and filters, an
    instance destination with a header; then the account playing `role`."""
    admin = await make_account("root", admin=True)
    owner = await make_account("owner")
    owner_actor, admin_actor = Actor(owner.user), Actor(admin.user)
    ns, dest = services.namespaces, services.destinations
    group = await ns.create_group(owner_actor, path="acme", name="Acme")
    subgroup = await ns.create_group(owner_actor, path="team", name="Team", parent_ref="acme")
    await ns.create_project(owner_actor, namespace_ref="acme/team", path="app", name="App")
    destination = await dest.create_group_destination(
        owner_actor, group_path="acme", destination_url="https://siem.example.com/a"
    )
    header = await dest.create_header(
        owner_actor,
        destination.id,
        kind=OwnerKind.GROUP,
        key="Authorization",
        value="Bearer s3cret",
    )
    await dest.add_event_types(owner_actor, destination.id, ["group_created"], kind=OwnerKind.GROUP)
    namespace_filter = await dest.add_namespace_filter(
        owner_actor, destination.id, group_path="acme/team"
    )
    instance = await dest.create_instance_destination(
        admin_actor, destination_url="https://siem.example.com/instance"
    )
    instance_header = await dest.create_header(
        admin_actor,
        instance.id,
        kind=OwnerKind.INSTANCE,
        key="Authorization",
        value="Bearer s3cret",
    )
    await dest.add_event_types(admin_actor, instance.id, ["user_created"], kind=OwnerKind.INSTANCE)
    kinds = await _kinds(services, owner_actor, admin_actor)

    account: Account | None
    if role == "anonymous":
        account = None
    elif role == "administrator":
        account = admin
    elif role == "owner_ultimate":
        account = owner
    elif role in PLANS:
        account = admin if role in ADMINISTRATORS else owner
        await ns.set_plan(admin_actor, "acme", PLANS[role].value)
    else:
        account = await make_account(role)
        if role in MEMBER_LEVELS:
            await ns.add_member(
                owner_actor, group, user_id=account.user.id, access_level=MEMBER_LEVELS[role]
            )
        elif role == "subgroup_owner":
            await ns.add_member(
                owner_actor, subgroup, user_id=account.user.id, access_level=AccessLevel.OWNER
            )
        elif role == "owner_expired":  # an Owner whose membership ended when today began
            await ns.add_member(
                owner_actor, group, user_id=account.user.id, access_level=AccessLevel.OWNER
            )
            async with services.store.write() as conn:
                await conn.execute(
                    members.update()
                    .where(members.c.user_id == account.user.id)
                    .values(expires_at=utcnow().date())
                )
    return World(
        account=account,
        destination=destination_gid(destination.id),
        header=gid("AuditEvents::Streaming::Header", header.id),
        namespace_filter=gid("AuditEvents::Streaming::HTTP::NamespaceFilter", namespace_filter.id),
        instance_destination=gid("AuditEvents::InstanceExternalAuditEventDestination", instance.id),
        instance_header=gid("AuditEvents::Streaming::InstanceHeader", instance_header.id),
        kinds=kinds,
    )


GCP = {"googleProjectIdName": "acme-logs", "clientEmail": "sa@acme.iam.example.com"}
KEY = new_private_key()[0]
S3 = {"accessKeyXid": "AKIAIOSFODNN7EXAMPLE", "awsRegion": "eu-west-1"}


async def _kinds(services: Services, owner: Actor, admin: Actor) -> dict[str, int]:
    """A GCP destination to change, one to destroy, an S3 one with a namespace filter; the
    same for the instance."""
    dest = services.destinations
    made: dict[str, int] = {}
    for prefix, actor, owner_value in (
        ("", owner, await dest.group_owner(owner, "acme")),
        ("instance_", admin, dest.instance_owner(admin)),
    ):
        for name, log in (("gcp", "one"), ("gcp2", "two")):
            config = {**GCP, "logIdName": log}
            created = await dest.create(
                actor, owner_value, category="gcp", config=config, secret_token=KEY
            )
            made[prefix + name] = created.id
        s3 = await dest.create(
            actor,
            owner_value,
            category="aws",
            config={**S3, "bucketName": f"{prefix.rstrip('_')}-audit".lstrip("-")},
            secret_token="wJalrXUtnFEMI/K7MDENG",
        )
        made[prefix + "s3"] = s3.id
        kind = owner_value.kind
        found = await dest.namespace_path_filter(actor, s3.id, "acme/team", kind=kind)
        made[prefix + "filter"] = found.id
    return made


def _g(model: str, world: World, key: str) -> str:
    return gid(f"AuditEvents::{model}", world.kinds[key])


@dataclass(frozen=True)
class Operation:
    field: str
    input_type: str
    selection: str
    variables: Callable[[World], dict[str, Any]]
    family: str  # "group" or "instance"

    def document(self) -> str:
        return (
            f"mutation($input: {self.input_type}!) {{ {self.field}(input: $input) "
            f"{{ clientMutationId errors {self.selection} }} }}"
        )


def op(
    field: str, selection: str, variables: Callable[[World], dict[str, Any]], family: str
) -> Operation:
    input_type = field[0].upper() + field[1:] + "Input"
    return Operation(field, input_type, selection, variables, family)


# In an order an allowed role can run them all, one after the other.
OPERATIONS = [
    op(
        "externalAuditEventDestinationCreate",
        "externalAuditEventDestination { id verificationToken }",
        lambda w: {"destinationUrl": "https://siem.example.com/new", "groupPath": "acme"},
        "group",
    ),
    op(
        "externalAuditEventDestinationUpdate",
        "externalAuditEventDestination { name }",
        lambda w: {"id": w.destination, "name": "renamed"},
        "group",
    ),
    op(
        "auditEventsStreamingHeadersCreate",
        "header { id key value active }",
        lambda w: {"destinationId": w.destination, "key": "X-Team", "value": "blue"},
        "group",
    ),
    op(
        "auditEventsStreamingHeadersUpdate",
        "header { value }",
        lambda w: {"headerId": w.header, "value": "Bearer n3w"},
        "group",
    ),
    op(
        "auditEventsStreamingDestinationEventsAdd",
        "eventTypeFilters",
        lambda w: {"destinationId": w.destination, "eventTypeFilters": ["project_created"]},
        "group",
    ),
    op(
        "auditEventsStreamingDestinationEventsRemove",
        "",
        lambda w: {"destinationId": w.destination, "eventTypeFilters": ["group_created"]},
        "group",
    ),
    op(
        "auditEventsStreamingHTTPNamespaceFiltersDelete",
        "",
        lambda w: {"namespaceFilterId": w.namespace_filter},
        "group",
    ),
    op(
        "auditEventsStreamingHTTPNamespaceFiltersAdd",
        "namespaceFilter { id namespace { fullPath } }",
        lambda w: {"destinationId": w.destination, "projectPath": "acme/team/app"},
        "group",
    ),
    op("auditEventsStreamingHeadersDestroy", "", lambda w: {"headerId": w.header}, "group"),
    op("externalAuditEventDestinationDestroy", "", lambda w: {"id": w.destination}, "group"),
    op(
        "googleCloudLoggingConfigurationUpdate",
        "googleCloudLoggingConfiguration { id name }",
        lambda w: {"id": _g("GoogleCloudLoggingConfiguration", w, "gcp"), "name": "gcp"},
        "group",
    ),
    op(
        "auditEventsAmazonS3ConfigurationUpdate",
        "amazonS3Configuration { id bucketName }",
        lambda w: {"id": _g("AmazonS3Configuration", w, "s3"), "bucketName": "audit-two"},
        "group",
    ),
    op(
        "groupAuditEventStreamingDestinationsUpdate",
        "externalAuditEventDestination { active }",
        lambda w: {"id": _g("Group::ExternalStreamingDestination", w, "gcp"), "active": False},
        "group",
    ),
    op(
        "auditEventsGroupDestinationEventsAdd",
        "eventTypeFilters",
        lambda w: {
            "destinationId": _g("Group::ExternalStreamingDestination", w, "gcp"),
            "eventTypeFilters": ["group_created"],
        },
        "group",
    ),
    op(
        "auditEventsGroupDestinationEventsDelete",
        "",
        lambda w: {
            "destinationId": _g("Group::ExternalStreamingDestination", w, "gcp"),
            "eventTypeFilters": ["group_created"],
        },
        "group",
    ),
    op(
        "auditEventsGroupDestinationNamespaceFilterCreate",
        "namespaceFilter { id namespace { fullPath } }",
        lambda w: {
            "destinationId": _g("Group::ExternalStreamingDestination", w, "gcp"),
            "namespacePath": "acme/team",
        },
        "group",
    ),
    op(
        "auditEventsGroupDestinationNamespaceFilterDelete",
        "",
        lambda w: {"namespaceFilterId": _g("Group::NamespaceFilter", w, "filter")},
        "group",
    ),
    op(
        "groupAuditEventStreamingDestinationsCreate",
        "externalAuditEventDestination { id category secretToken }",
        lambda w: {
            "groupPath": "acme",
            "category": "aws",
            "config": {**S3, "bucketName": "audit-new"},
            "secretToken": "wJalrXUtnFEMI/K7MDENG",
        },
        "group",
    ),
    op(
        "googleCloudLoggingConfigurationCreate",
        "googleCloudLoggingConfiguration { id logIdName }",
        lambda w: {"groupPath": "acme", **GCP, "logIdName": "new", "privateKey": KEY},
        "group",
    ),
    op(
        "auditEventsAmazonS3ConfigurationCreate",
        "amazonS3Configuration { id }",
        lambda w: {
            "groupPath": "acme",
            **S3,
            "bucketName": "audit-newer",
            "secretAccessKey": "wJalrXUtnFEMI/K7MDENG",
        },
        "group",
    ),
    op(
        "auditEventsAmazonS3ConfigurationDelete",
        "",
        lambda w: {"id": _g("AmazonS3Configuration", w, "s3")},
        "group",
    ),
    op(
        "groupAuditEventStreamingDestinationsDelete",
        "",
        lambda w: {"id": _g("Group::ExternalStreamingDestination", w, "gcp")},
        "group",
    ),
    op(
        "googleCloudLoggingConfigurationDestroy",
        "",
        lambda w: {"id": _g("GoogleCloudLoggingConfiguration", w, "gcp2")},
        "group",
    ),
    op(
        "instanceGoogleCloudLoggingConfigurationUpdate",
        "instanceGoogleCloudLoggingConfiguration { id name }",
        lambda w: {
            "id": _g("Instance::GoogleCloudLoggingConfiguration", w, "instance_gcp"),
            "name": "gcp",
        },
        "instance",
    ),
    op(
        "auditEventsInstanceAmazonS3ConfigurationUpdate",
        "instanceAmazonS3Configuration { id bucketName }",
        lambda w: {
            "id": _g("Instance::AmazonS3Configuration", w, "instance_s3"),
            "bucketName": "instance-audit-two",
        },
        "instance",
    ),
    op(
        "instanceAuditEventStreamingDestinationsUpdate",
        "externalAuditEventDestination { active }",
        lambda w: {
            "id": _g("Instance::ExternalStreamingDestination", w, "instance_gcp"),
            "active": False,
        },
        "instance",
    ),
    op(
        "auditEventsInstanceDestinationEventsAdd",
        "eventTypeFilters",
        lambda w: {
            "destinationId": _g("Instance::ExternalStreamingDestination", w, "instance_gcp"),
            "eventTypeFilters": ["user_created"],
        },
        "instance",
    ),
    op(
        "auditEventsInstanceDestinationEventsDelete",
        "",
        lambda w: {
            "destinationId": _g("Instance::ExternalStreamingDestination", w, "instance_gcp"),
            "eventTypeFilters": ["user_created"],
        },
        "instance",
    ),
    op(
        "auditEventsInstanceDestinationNamespaceFilterCreate",
        "namespaceFilter { id namespace { fullPath } }",
        lambda w: {
            "destinationId": _g("Instance::ExternalStreamingDestination", w, "instance_gcp"),
            "namespacePath": "acme",
        },
        "instance",
    ),
    op(
        "auditEventsInstanceDestinationNamespaceFilterDelete",
        "",
        lambda w: {"namespaceFilterId": _g("Instance::NamespaceFilter", w, "instance_filter")},
        "instance",
    ),
    op(
        "instanceAuditEventStreamingDestinationsCreate",
        "externalAuditEventDestination { id category }",
        lambda w: {
            "category": "aws",
            "config": {**S3, "bucketName": "instance-new"},
            "secretToken": "wJalrXUtnFEMI/K7MDENG",
        },
        "instance",
    ),
    op(
        "instanceGoogleCloudLoggingConfigurationCreate",
        "instanceGoogleCloudLoggingConfiguration { id }",
        lambda w: {**GCP, "logIdName": "new", "privateKey": KEY},
        "instance",
    ),
    op(
        "auditEventsInstanceAmazonS3ConfigurationCreate",
        "instanceAmazonS3Configuration { id }",
        lambda w: {**S3, "bucketName": "instance-newer", "secretAccessKey": "wJalrXUtnFEMI/K7MD"},
        "instance",
    ),
    op(
        "auditEventsInstanceAmazonS3ConfigurationDelete",
        "",
        lambda w: {"id": _g("Instance::AmazonS3Configuration", w, "instance_s3")},
        "instance",
    ),
    op(
        "instanceAuditEventStreamingDestinationsDelete",
        "",
        lambda w: {"id": _g("Instance::ExternalStreamingDestination", w, "instance_gcp")},
        "instance",
    ),
    op(
        "instanceGoogleCloudLoggingConfigurationDestroy",
        "",
        lambda w: {"id": _g("Instance::GoogleCloudLoggingConfiguration", w, "instance_gcp2")},
        "instance",
    ),
    op(
        "instanceExternalAuditEventDestinationCreate",
        "instanceExternalAuditEventDestination { id verificationToken }",
        lambda w: {"destinationUrl": "https://siem.example.com/new-instance"},
        "instance",
    ),
    op(
        "instanceExternalAuditEventDestinationUpdate",
        "instanceExternalAuditEventDestination { active }",
        lambda w: {"id": w.instance_destination, "active": False},
        "instance",
    ),
    op(
        "auditEventsStreamingInstanceHeadersCreate",
        "header { id key }",
        lambda w: {"destinationId": w.instance_destination, "key": "X-Env", "value": "prod"},
        "instance",
    ),
    op(
        "auditEventsStreamingInstanceHeadersUpdate",
        "header { active }",
        lambda w: {"headerId": w.instance_header, "active": False},
        "instance",
    ),
    op(
        "auditEventsStreamingDestinationInstanceEventsAdd",
        "eventTypeFilters",
        lambda w: {"destinationId": w.instance_destination, "eventTypeFilters": ["x"]},
        "instance",
    ),
    op(
        "auditEventsStreamingDestinationInstanceEventsRemove",
        "",
        lambda w: {"destinationId": w.instance_destination, "eventTypeFilters": ["user_created"]},
        "instance",
    ),
    op(
        "auditEventsStreamingInstanceHeadersDestroy",
        "",
        lambda w: {"headerId": w.instance_header},
        "instance",
    ),
    op(
        "instanceExternalAuditEventDestinationDestroy",
        "",
        lambda w: {"id": w.instance_destination},
        "instance",
    ),
]

QUERIES = """
query {
  currentUser { username }
  group(fullPath: "acme") {
    fullPath
    externalAuditEventDestinations {
      nodes {
        verificationToken headers { nodes { value } }
        health { state pendingCount failedCount lastError }
        deliveries { nodes { eventId statusCode } }
      }
    }
    externalAuditEventStreamingDestinations {
      nodes { category secretToken health { state } deliveries { nodes { eventId } } }
    }
    googleCloudLoggingConfigurations { nodes { logIdName health { state } } }
    amazonS3Configurations { nodes { bucketName } }
  }
  subgroup: group(fullPath: "acme/team") { externalAuditEventDestinations { nodes { id } } }
  project(fullPath: "acme/team/app") { fullPath }
  instanceExternalAuditEventDestinations {
    nodes { verificationToken health { state } deliveries { nodes { eventId } } }
  }
  auditEventsInstanceStreamingDestinations { nodes { category health { state } } }
  instanceGoogleCloudLoggingConfigurations { nodes { logIdName } }
  auditEventsInstanceAmazonS3Configurations { nodes { bucketName } }
}
"""


@pytest.mark.parametrize("role", ROLES)
async def test_every_query_answers_each_role_with_what_it_may_see(
    role: str, graphql: RunGraphQL, services: Services, make_account: MakeAccount
) -> None:
    world = await build_world(role, services, make_account)
    body = await graphql(QUERIES, as_=world.account)
    assert "errors" not in body, body
    data = body["data"]

    expected_user = None if world.account is None else {"username": world.account.user.username}
    assert data["currentUser"] == expected_user

    if role in GROUP_READERS:
        assert data["group"]["fullPath"] == "acme"
        assert data["project"] == {"fullPath": "acme/team/app"}
    else:
        assert data["group"] is None
    if role in GROUP_MANAGERS:
        destinations = data["group"]["externalAuditEventDestinations"]["nodes"]
        assert len(destinations) == 1
        assert len(destinations[0]["verificationToken"]) == 24
        assert destinations[0]["headers"]["nodes"] == [{"value": "Bearer s3cret"}]
        assert destinations[0]["health"]["state"] == "HEALTHY"
        assert destinations[0]["deliveries"] == {"nodes": []}
        streaming = data["group"]["externalAuditEventStreamingDestinations"]["nodes"]
        assert [d["category"] for d in streaming] == ["http", "gcp", "gcp", "aws"]
        assert len(streaming[0]["secretToken"]) == 24
        assert [d["secretToken"] for d in streaming[1:]] == ["", "", ""]  # never a key
        gcp = data["group"]["googleCloudLoggingConfigurations"]["nodes"]
        assert gcp == [
            {"logIdName": "one", "health": {"state": "HEALTHY"}},
            {"logIdName": "two", "health": {"state": "HEALTHY"}},
        ]
        assert data["group"]["amazonS3Configurations"] == {"nodes": [{"bucketName": "audit"}]}
    elif data["group"] is not None:
        for field in (
            "externalAuditEventDestinations",
            "externalAuditEventStreamingDestinations",
            "googleCloudLoggingConfigurations",
            "amazonS3Configurations",
        ):
            assert data["group"][field] is None, field

    if role == "subgroup_owner":  # sees the subgroup, which can hold no destinations
        assert data["subgroup"] == {"externalAuditEventDestinations": {"nodes": []}}
        assert data["project"] == {"fullPath": "acme/team/app"}
    if role in ADMINISTRATORS:
        instance = data["instanceExternalAuditEventDestinations"]["nodes"]
        assert len(instance) == 1
        assert instance[0]["health"] == {"state": "HEALTHY"}
        assert instance[0]["deliveries"] == {"nodes": []}
        streaming = data["auditEventsInstanceStreamingDestinations"]["nodes"]
        assert [d["category"] for d in streaming] == ["http", "gcp", "gcp", "aws"]
        assert data["instanceGoogleCloudLoggingConfigurations"]["nodes"] == [
            {"logIdName": "one"},
            {"logIdName": "two"},
        ]
        assert data["auditEventsInstanceAmazonS3Configurations"]["nodes"] == [
            {"bucketName": "instance-audit"}
        ]
    else:
        for field in (
            "instanceExternalAuditEventDestinations",
            "auditEventsInstanceStreamingDestinations",
            "instanceGoogleCloudLoggingConfigurations",
            "auditEventsInstanceAmazonS3Configurations",
        ):
            assert data[field] is None, field


@pytest.mark.parametrize("role", ROLES)
async def test_every_mutation_is_allowed_or_refused_for_each_role(
    role: str, graphql: RunGraphQL, services: Services, make_account: MakeAccount
) -> None:
    world = await build_world(role, services, make_account)
    for index, operation in enumerate(OPERATIONS):
        client_id = f"m{index}"
        variables = {"input": {**operation.variables(world), "clientMutationId": client_id}}
        body = await graphql(operation.document(), variables, as_=world.account)
        payload = body["data"][operation.field]
        allowed = role in GROUP_MANAGERS if operation.family == "group" else role in ADMINISTRATORS
        if allowed:
            assert "errors" not in body, (operation.field, body)
            assert payload["errors"] == [], (operation.field, payload)
            assert payload["clientMutationId"] == client_id
        else:
            expected = (
                RESOURCE_NOT_AVAILABLE if operation.family == "group" else MUTATION_NOT_ALLOWED
            )
            assert payload is None, (operation.field, body)
            assert [e["message"] for e in body["errors"]] == [expected], operation.field

    # Refused roles changed nothing: the owner still sees the destination as it was.
    async with services.store.read() as conn:
        group = await find_group(conn, "acme")
        assert group is not None
        everything = await dest_store.list_destinations(conn, services.box, Owner.of(group))
    owner_view = [d for d in everything if d.category == "http"]
    if role not in GROUP_MANAGERS:
        assert [d.name for d in owner_view] == [owner_view[0].name]
        assert [h.key for h in owner_view[0].headers] == ["Authorization"]
        assert owner_view[0].event_types == ["group_created"]
        assert owner_view[0].namespace_filter is not None
        assert len(everything) == 4  # two GCP, one S3 besides, as they were
    else:  # the new destinations remain; those destroyed are gone
        assert [d.destination_url for d in owner_view] == ["https://siem.example.com/new"]
        assert sorted(d.name for d in everything if d.category != "http") == sorted(
            d.name for d in everything[1:]
        )
        assert sorted(
            (d.category, d.config.get("bucketName") or d.config.get("logIdName"))
            for d in everything
            if d.category != "http"
        ) == [("aws", "audit-new"), ("aws", "audit-newer"), ("gcp", "new")]


async def test_subgroup_owner_gets_the_subgroup_rule_in_errors(
    graphql: RunGraphQL, services: Services, make_account: MakeAccount
) -> None:
    world = await build_world("subgroup_owner", services, make_account)
    body = await graphql(
        OPERATIONS[0].document(),
        {"input": {"destinationUrl": "https://siem.example.com/t", "groupPath": "acme/team"}},
        as_=world.account,
    )
    payload = body["data"]["externalAuditEventDestinationCreate"]
    assert payload["errors"] == ["Group must not be a subgroup"]
    assert payload["externalAuditEventDestination"] is None


async def test_read_api_token_may_query_but_not_mutate(
    graphql: RunGraphQL, services: Services, make_account: MakeAccount
) -> None:
    world = await build_world("owner_ultimate", services, make_account)
    assert world.account is not None
    token = await services.users.create_token(
        None, world.account.user.id, name="read", scopes=(Scope.READ_API,)
    )
    reader = Account(world.account.user, token.value)
    listed = await graphql(QUERIES, as_=reader)
    assert len(listed["data"]["group"]["externalAuditEventDestinations"]["nodes"]) == 1
    body = await graphql(
        OPERATIONS[1].document(), {"input": OPERATIONS[1].variables(world)}, as_=reader
    )
    assert body["data"]["externalAuditEventDestinationUpdate"] is None
    assert body["errors"][0]["message"] == "403 Forbidden - insufficient_scope"


async def test_refused_roles_learn_no_rules_from_invalid_input(
    graphql: RunGraphQL, services: Services, make_account: MakeAccount
) -> None:
    world = await build_world("maintainer", services, make_account)
    invalid = [
        (OPERATIONS[1], {"id": world.destination, "name": "n" * 73}),
        (OPERATIONS[1], {"id": world.destination, "destinationUrl": "ftp://x"}),
        (OPERATIONS[2], {"destinationId": world.destination, "key": "", "value": ""}),
        (OPERATIONS[4], {"destinationId": world.destination, "eventTypeFilters": ["t" * 256]}),
        (OPERATIONS[5], {"destinationId": world.destination, "eventTypeFilters": ["nope"]}),
    ]
    for operation, variables in invalid:
        body = await graphql(operation.document(), {"input": variables}, as_=world.account)
        assert body["data"][operation.field] is None
        assert [e["message"] for e in body["errors"]] == [RESOURCE_NOT_AVAILABLE]


# Seeing and steering delivery ---------------------------------------------------------------

WINDOW = {"createdAfter": "2026-01-01T00:00:00Z", "createdBefore": "2026-01-02T00:00:00Z"}
DELIVERY_OPERATIONS = [
    op(
        "auditEventsStreamingDestinationTest",
        "statusCode error",
        lambda w: {"destinationId": w.destination},
        "group",
    ),
    op(
        "auditEventsStreamingDestinationReplay",
        "queuedCount",
        lambda w: {"destinationId": w.destination, **WINDOW},
        "group",
    ),
    op(
        "auditEventsStreamingDestinationRetryFailed",
        "queuedCount",
        lambda w: {"destinationId": w.destination},
        "group",
    ),
    op(
        "auditEventsStreamingDestinationInstanceTest",
        "statusCode error",
        lambda w: {"destinationId": w.instance_destination},
        "instance",
    ),
    op(
        "auditEventsStreamingDestinationInstanceReplay",
        "queuedCount",
        lambda w: {"destinationId": w.instance_destination, **WINDOW},
        "instance",
    ),
    op(
        "auditEventsStreamingDestinationInstanceRetryFailed",
        "queuedCount",
        lambda w: {"destinationId": w.instance_destination},
        "instance",
    ),
]
STEERING_EVENTS = ("streaming_destination_replay", "streaming_destination_retry_failed")


def _numeric(global_id: str) -> int:
    return int(global_id.rsplit("/", 1)[1])


@pytest.mark.parametrize("role", ROLES)
async def test_delivery_health_and_steering_are_for_destination_managers_only(
    role: str, graphql: RunGraphQL, services: Services, make_account: MakeAccount
) -> None:
    world = await build_world(role, services, make_account)
    group_id, instance_id = _numeric(world.destination), _numeric(world.instance_destination)
    async with serve(Receiver()) as receiver:
        async with services.store.write() as conn:  # whatever the group's plan now is
            for destination_id in (group_id, instance_id):
                await dest_store.update_destination(
                    conn,
                    destination_id,
                    utcnow(),
                    config={"url": f"{receiver.url}/{destination_id}"},
                )
        for index, operation in enumerate(DELIVERY_OPERATIONS):
            client_id = f"d{index}"
            variables = {"input": {**operation.variables(world), "clientMutationId": client_id}}
            body = await graphql(operation.document(), variables, as_=world.account)
            payload = body["data"][operation.field]
            allowed = (
                role in GROUP_MANAGERS if operation.family == "group" else role in ADMINISTRATORS
            )
            if allowed:
                assert "errors" not in body, (operation.field, body)
                assert payload["errors"] == [], (operation.field, payload)
                assert payload["clientMutationId"] == client_id
                assert payload.get("statusCode", 200) == 200
            else:
                expected = (
                    RESOURCE_NOT_AVAILABLE if operation.family == "group" else MUTATION_NOT_ALLOWED
                )
                assert payload is None, (operation.field, body)
                assert [e["message"] for e in body["errors"]] == [expected], operation.field

    actor = Actor(world.account.user) if world.account else None
    for destination_id, instance in ((group_id, False), (instance_id, True)):
        may = role in GROUP_MANAGERS if not instance else role in ADMINISTRATORS
        try:
            health = await services.delivery.health(actor, destination_id, kind=_kind(instance))
            attempts = await services.delivery.attempts(
                actor, destination_id, kind=_kind(instance), limit=10
            )
        except Forbidden as error:
            assert not may, role
            assert error.message == RESOURCE_NOT_AVAILABLE
        else:
            assert may, role
            assert health.destination_id == destination_id
            assert attempts == []  # a test event is not a queued delivery: it leaves no log

    sent = {int(orjson.loads(r.body)["id"]) for r in receiver.received}
    async with services.store.read() as conn:
        steering = list(
            await conn.execute(
                sa.select(audit_events.c.event_type, audit_events.c.author_id).where(
                    audit_events.c.event_type.in_(STEERING_EVENTS)
                )
            )
        )
    expected_tests = (role in GROUP_MANAGERS) + (role in ADMINISTRATORS)
    assert len(sent) == expected_tests  # refused callers sent nothing
    assert len(steering) == 2 * expected_tests  # and recorded no replay or retry
    if world.account is not None:
        assert {row.author_id for row in steering} <= {world.account.user.id}


def _kind(instance: bool) -> OwnerKind:
    return OwnerKind.INSTANCE if instance else OwnerKind.GROUP
