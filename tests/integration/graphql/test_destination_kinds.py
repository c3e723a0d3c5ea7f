"""The consolidated streaming API and the GCP and S3 families: one destination row, seen and
changed through either, with GitLab's names, limits and messages."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from auditwire.domain.categories import GCP_KEY_INVALID
from auditwire.domain.events import utcnow
from auditwire.services.container import Services
from auditwire.services.context import Actor
from auditwire.store import destinations as dest_store
from tests.conftest import MakeAccount
from tests.integration.graphql.conftest import (
    MUTATION_NOT_ALLOWED,
    RESOURCE_NOT_AVAILABLE,
    Acme,
    RunGraphQL,
    top_level_error,
)
from tests.integration.streaming.receivers import Receiver, serve
from tests.integration.streaming.sinks.google import new_private_key

KEY = new_private_key()[0]
S3_SECRET = "wJalrXUtnFEMI/K7MDENG"
GCP = {"googleProjectIdName": "acme-logs", "clientEmail": "sa@acme.iam.example.com"}
S3 = {"accessKeyXid": "AKIAIOSFODNN7EXAMPLE", "bucketName": "audit", "awsRegion": "eu-west-1"}
FIELDS = "id name category config secretToken active eventTypeFilters"

CREATE = f"""
mutation($input: GroupAuditEventStreamingDestinationsCreateInput!) {{
  groupAuditEventStreamingDestinationsCreate(input: $input) {{
    errors externalAuditEventDestination {{ {FIELDS} group {{ fullPath }} }} }} }}
"""
UPDATE = f"""
mutation($input: GroupAuditEventStreamingDestinationsUpdateInput!) {{
  groupAuditEventStreamingDestinationsUpdate(input: $input) {{
    errors externalAuditEventDestination {{ {FIELDS} }} }} }}
"""
DELETE = """
mutation($id: AuditEventsGroupExternalStreamingDestinationID!) {
  groupAuditEventStreamingDestinationsDelete(input: {id: $id}) { errors } }
"""
LIST = f"""
query {{ group(fullPath: "acme") {{
  externalAuditEventStreamingDestinations {{ nodes {{ {FIELDS} namespaceFilters {{ id }} }} }}
  googleCloudLoggingConfigurations {{
    nodes {{ id name googleProjectIdName clientEmail logIdName active group {{ fullPath }} }} }}
  amazonS3Configurations {{ nodes {{ id name accessKeyXid bucketName awsRegion active }} }}
  externalAuditEventDestinations {{ nodes {{ id }} }}
}} }}
"""
GCP_CREATE = """
mutation($input: GoogleCloudLoggingConfigurationCreateInput!) {
  googleCloudLoggingConfigurationCreate(input: $input) {
    errors googleCloudLoggingConfiguration { id name googleProjectIdName logIdName } } }
"""
GCP_UPDATE = """
mutation($input: GoogleCloudLoggingConfigurationUpdateInput!) {
  googleCloudLoggingConfigurationUpdate(input: $input) {
    errors googleCloudLoggingConfiguration { id name clientEmail logIdName active } } }
"""
GCP_DESTROY = """
mutation($id: AuditEventsGoogleCloudLoggingConfigurationID!) {
  googleCloudLoggingConfigurationDestroy(input: {id: $id}) { errors } }
"""
S3_CREATE = """
mutation($input: AuditEventsAmazonS3ConfigurationCreateInput!) {
  auditEventsAmazonS3ConfigurationCreate(input: $input) {
    errors amazonS3Configuration { id name bucketName awsRegion } } }
"""
S3_UPDATE = """
mutation($input: AuditEventsAmazonS3ConfigurationUpdateInput!) {
  auditEventsAmazonS3ConfigurationUpdate(input: $input) {
    errors amazonS3Configuration { id bucketName active } } }
"""
S3_DELETE = """
mutation($id: AuditEventsAmazonS3ConfigurationID!) {
  auditEventsAmazonS3ConfigurationDelete(input: {id: $id}) { errors } }
"""
FILTER = """
mutation($id: AuditEventsGroupExternalStreamingDestinationID!, $path: String) {
  auditEventsGroupDestinationNamespaceFilterCreate(input: {destinationId: $id,
    namespacePath: $path}) { errors namespaceFilter { id namespace { fullPath }
    externalStreamingDestination { id } } } }
"""
TEST = """
mutation($id: AuditEventsStreamingDestinationID!) {
  auditEventsStreamingDestinationTest(input: {destinationId: $id}) { errors statusCode error } }
"""
RETRY = """
mutation($id: AuditEventsStreamingDestinationID!) {
  auditEventsStreamingDestinationRetryFailed(input: {destinationId: $id}) { errors queuedCount } }
"""
REPLAY = """
mutation($id: AuditEventsStreamingDestinationID!) {
  auditEventsStreamingDestinationReplay(input: {destinationId: $id,
    createdAfter: "2026-01-01T00:00:00Z", createdBefore: "2026-01-02T00:00:00Z"}) {
    errors queuedCount } }
"""


def _number(global_id: str) -> int:
    return int(global_id.rsplit("/", 1)[1])


async def _create(graphql: RunGraphQL, acme: Acme, **fields: Any) -> dict[str, Any]:
    body = await graphql(CREATE, {"input": {"groupPath": "acme", **fields}}, as_=acme.owner)
    payload: dict[str, Any] = body["data"]["groupAuditEventStreamingDestinationsCreate"]
    return payload


@pytest.mark.parametrize(
    ("category", "config", "secret"),
    [
        ("http", {"url": "https://siem.example.com/new"}, None),
        ("aws", S3, S3_SECRET),
        ("gcp", GCP, KEY),
    ],
)
async def test_consolidated_destinations_are_created_listed_updated_and_deleted(
    category: str, config: dict[str, Any], secret: str | None, graphql: RunGraphQL, acme: Acme
) -> None:
    created = await _create(
        graphql, acme, category=category, config=config, name="new", secretToken=secret
    )
    assert created["errors"] == []
    found = created["externalAuditEventDestination"]
    assert found["id"].startswith("gid://gitlab/AuditEvents::Group::ExternalStreamingDestination/")
    assert (found["category"], found["name"], found["active"]) == (category, "new", True)
    assert found["group"] == {"fullPath": "acme"}
    # GitLab shows an http token only; an S3 key or a GCP private key never again.
    assert len(found["secretToken"]) == (24 if category == "http" else 0)
    expected = {**config, "logIdName": "audit-events"} if category == "gcp" else config
    assert found["config"] == expected

    listed = (await graphql(LIST, as_=acme.owner))["data"]["group"]
    nodes = listed["externalAuditEventStreamingDestinations"]["nodes"]
    assert [n["category"] for n in nodes] == ["http", category]
    assert len(listed["googleCloudLoggingConfigurations"]["nodes"]) == (category == "gcp")
    assert len(listed["amazonS3Configurations"]["nodes"]) == (category == "aws")
    assert len(listed["externalAuditEventDestinations"]["nodes"]) == 1 + (category == "http")

    updated = await graphql(
        UPDATE, {"input": {"id": found["id"], "name": "renamed", "active": False}}, as_=acme.owner
    )
    payload = updated["data"]["groupAuditEventStreamingDestinationsUpdate"]
    assert payload["errors"] == []
    assert (
        payload["externalAuditEventDestination"]["name"],
        payload["externalAuditEventDestination"]["active"],
    ) == ("renamed", False)

    deleted = await graphql(DELETE, {"id": found["id"]}, as_=acme.owner)
    assert deleted["data"]["groupAuditEventStreamingDestinationsDelete"] == {"errors": []}
    listed = (await graphql(LIST, as_=acme.owner))["data"]["group"]
    assert len(listed["externalAuditEventStreamingDestinations"]["nodes"]) == 1


async def test_consolidated_api_answers_with_gitlabs_messages(
    graphql: RunGraphQL, acme: Acme
) -> None:
    short = await _create(
        graphql, acme, category="http", config={"url": "https://x.example.com"}, secretToken="s"
    )
    assert short["errors"] == ["Secret token should have length between 16 to 24 characters."]
    missing = await _create(graphql, acme, category="aws", config=S3)
    assert missing["errors"] == ["Secret token is required for category"]
    unknown = await _create(graphql, acme, category="ftp", config={})
    assert unknown["errors"] == ["Category is not included in the list"]
    bad = await _create(
        graphql, acme, category="gcp", config={**GCP, "googleProjectIdName": "A"}, secretToken=KEY
    )
    assert bad["errors"] == ["Config googleProjectIdName is invalid"]
    for n in range(5):
        made = await _create(
            graphql, acme, category="aws", config={**S3, "bucketName": f"b{n}"}, secretToken="k"
        )
        assert made["errors"] == [], n
    sixth = await _create(
        graphql, acme, category="aws", config={**S3, "bucketName": "b6"}, secretToken="k"
    )
    assert sixth["errors"] == ["Maximum number of external audit event destinations (5) exceeded"]
    assert sixth["externalAuditEventDestination"] is None
    other_kind = await _create(graphql, acme, category="gcp", config=GCP, secretToken=KEY)
    assert other_kind["errors"] == []  # the limit is per category


async def test_namespace_filters_are_limited_and_named_as_gitlab_names_them(
    graphql: RunGraphQL, services: Services, acme: Acme
) -> None:
    made = await _create(graphql, acme, category="gcp", config=GCP, secretToken=KEY)
    destination = made["externalAuditEventDestination"]["id"]
    actor = Actor(acme.owner.user)
    for n in range(4):
        await services.namespaces.create_group(actor, path=f"t{n}", name=f"T{n}", parent_ref="acme")
    paths = ["acme/team", "acme/team/app", "acme/t0", "acme/t1", "acme/t2"]
    for path in paths:
        body = await graphql(FILTER, {"id": destination, "path": path}, as_=acme.owner)
        payload = body["data"]["auditEventsGroupDestinationNamespaceFilterCreate"]
        assert payload["errors"] == [], path
        assert payload["namespaceFilter"]["namespace"]["fullPath"] == path
        assert payload["namespaceFilter"]["id"].startswith(
            "gid://gitlab/AuditEvents::Group::NamespaceFilter/"
        )
        assert payload["namespaceFilter"]["externalStreamingDestination"]["id"] == destination
    again = await graphql(FILTER, {"id": destination, "path": "acme/team"}, as_=acme.owner)
    assert again["data"]["auditEventsGroupDestinationNamespaceFilterCreate"]["errors"] == [
        "Namespace has already been taken"
    ]
    sixth = await graphql(FILTER, {"id": destination, "path": "acme/t3"}, as_=acme.owner)
    assert sixth["data"]["auditEventsGroupDestinationNamespaceFilterCreate"]["errors"] == [
        "Namespace filters are limited to 5 per destination"
    ]
    nowhere = await graphql(FILTER, {"id": destination, "path": "nowhere"}, as_=acme.owner)
    assert top_level_error(nowhere) == "namespace_path should be of group or project only."
    listed = (await graphql(LIST, as_=acme.owner))["data"]["group"]
    gcp = listed["externalAuditEventStreamingDestinations"]["nodes"][1]
    assert len(gcp["namespaceFilters"]) == 5


async def test_a_private_key_that_cannot_sign_is_refused_by_both_families(
    graphql: RunGraphQL, acme: Acme
) -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_pem = ec_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    for secret in ["not a key", KEY.replace("A", "B", 40), ec_pem]:
        consolidated = await _create(graphql, acme, category="gcp", config=GCP, secretToken=secret)
        assert consolidated["errors"] == [GCP_KEY_INVALID]
        given = {"groupPath": "acme", **GCP, "privateKey": secret}
        body = await graphql(GCP_CREATE, {"input": given}, as_=acme.owner)
        legacy = body["data"]["googleCloudLoggingConfigurationCreate"]
        assert legacy["errors"] and "PEM" in legacy["errors"][0]
        assert legacy["googleCloudLoggingConfiguration"] is None
    made = await graphql(
        GCP_CREATE, {"input": {"groupPath": "acme", **GCP, "privateKey": KEY}}, as_=acme.owner
    )
    created = made["data"]["googleCloudLoggingConfigurationCreate"]
    assert created["errors"] == []
    update = {"id": created["googleCloudLoggingConfiguration"]["id"], "privateKey": "nope"}
    refused = await graphql(GCP_UPDATE, {"input": update}, as_=acme.owner)
    assert "PEM" in refused["data"]["googleCloudLoggingConfigurationUpdate"]["errors"][0]
    listed = (await graphql(LIST, as_=acme.owner))["data"]["group"]
    nodes = listed["externalAuditEventStreamingDestinations"]["nodes"]
    assert [node["category"] for node in nodes].count("gcp") == 1


async def test_gcp_family_creates_updates_and_destroys_with_gitlabs_words(
    graphql: RunGraphQL, acme: Acme
) -> None:
    body = await graphql(
        GCP_CREATE, {"input": {"groupPath": "acme", **GCP, "privateKey": KEY}}, as_=acme.owner
    )
    payload = body["data"]["googleCloudLoggingConfigurationCreate"]
    assert payload["errors"] == []
    made = payload["googleCloudLoggingConfiguration"]
    assert made["id"].startswith("gid://gitlab/AuditEvents::GoogleCloudLoggingConfiguration/")
    assert made["logIdName"] == "audit_events"  # GitLab's older default

    same = await graphql(
        GCP_CREATE, {"input": {"groupPath": "acme", **GCP, "privateKey": KEY}}, as_=acme.owner
    )
    assert same["data"]["googleCloudLoggingConfigurationCreate"]["errors"] == [
        "Google project id name has already been taken"
    ]
    short = await graphql(
        GCP_CREATE,
        {"input": {"groupPath": "acme", **GCP, "googleProjectIdName": "ab", "privateKey": KEY}},
        as_=acme.owner,
    )
    assert short["data"]["googleCloudLoggingConfigurationCreate"]["errors"] == [
        "Google project id name is too short (minimum is 6 characters)"
    ]
    no_key = await graphql(
        GCP_UPDATE, {"input": {"id": made["id"], "privateKey": ""}}, as_=acme.owner
    )
    assert no_key["data"]["googleCloudLoggingConfigurationUpdate"]["errors"] == [
        "Private key can't be blank"
    ]

    changed = await graphql(
        GCP_UPDATE,
        {"input": {"id": made["id"], "clientEmail": "other@acme.example.com", "active": False}},
        as_=acme.owner,
    )
    updated = changed["data"]["googleCloudLoggingConfigurationUpdate"]
    assert updated["errors"] == []
    assert updated["googleCloudLoggingConfiguration"] == {
        "id": made["id"],
        "name": made["name"],
        "clientEmail": "other@acme.example.com",
        "logIdName": "audit_events",
        "active": False,
    }
    gone = await graphql(GCP_DESTROY, {"id": made["id"]}, as_=acme.owner)
    assert gone["data"]["googleCloudLoggingConfigurationDestroy"] == {"errors": []}
    listed = (await graphql(LIST, as_=acme.owner))["data"]["group"]
    assert listed["googleCloudLoggingConfigurations"]["nodes"] == []


async def test_s3_family_creates_updates_and_deletes_with_gitlabs_words(
    graphql: RunGraphQL, acme: Acme
) -> None:
    variables = {"input": {"groupPath": "acme", **S3, "secretAccessKey": S3_SECRET}}
    body = await graphql(S3_CREATE, variables, as_=acme.owner)
    made = body["data"]["auditEventsAmazonS3ConfigurationCreate"]["amazonS3Configuration"]
    assert made["id"].startswith("gid://gitlab/AuditEvents::AmazonS3Configuration/")
    again = await graphql(S3_CREATE, variables, as_=acme.owner)
    assert again["data"]["auditEventsAmazonS3ConfigurationCreate"]["errors"] == [
        "Bucket name has already been taken"
    ]
    bad_key = await graphql(
        S3_UPDATE, {"input": {"id": made["id"], "accessKeyXid": "short"}}, as_=acme.owner
    )
    assert bad_key["data"]["auditEventsAmazonS3ConfigurationUpdate"]["errors"] == [
        "Access key xid is too short (minimum is 16 characters)"
    ]
    region = await graphql(
        S3_UPDATE, {"input": {"id": made["id"], "awsRegion": "Mars"}}, as_=acme.owner
    )
    assert region["data"]["auditEventsAmazonS3ConfigurationUpdate"]["errors"] == [
        "AWS region must be a valid region code, for example us-east-1"
    ]
    moved = await graphql(
        S3_UPDATE, {"input": {"id": made["id"], "bucketName": "audit-2"}}, as_=acme.owner
    )
    assert moved["data"]["auditEventsAmazonS3ConfigurationUpdate"]["amazonS3Configuration"] == {
        "id": made["id"],
        "bucketName": "audit-2",
        "active": True,
    }
    for n in range(4):
        more = {"input": {**variables["input"], "bucketName": f"more-{n}"}}
        assert (await graphql(S3_CREATE, more, as_=acme.owner))["data"][
            "auditEventsAmazonS3ConfigurationCreate"
        ]["errors"] == []
    sixth = {"input": {**variables["input"], "bucketName": "more-5"}}
    assert (await graphql(S3_CREATE, sixth, as_=acme.owner))["data"][
        "auditEventsAmazonS3ConfigurationCreate"
    ]["errors"] == ["Maximum number of audit events amazon s3 configurations (5) exceeded"]
    gone = await graphql(S3_DELETE, {"id": made["id"]}, as_=acme.owner)
    assert gone["data"]["auditEventsAmazonS3ConfigurationDelete"] == {"errors": []}


async def test_a_destination_is_one_row_seen_and_changed_through_either_family(
    graphql: RunGraphQL, acme: Acme
) -> None:
    body = await graphql(
        GCP_CREATE,
        {"input": {"groupPath": "acme", **GCP, "privateKey": KEY, "name": "gcp"}},
        as_=acme.owner,
    )
    legacy_id = body["data"]["googleCloudLoggingConfigurationCreate"][
        "googleCloudLoggingConfiguration"
    ]["id"]
    number = _number(legacy_id)
    consolidated_id = f"gid://gitlab/AuditEvents::Group::ExternalStreamingDestination/{number}"
    listed = (await graphql(LIST, as_=acme.owner))["data"]["group"]
    seen = listed["externalAuditEventStreamingDestinations"]["nodes"][1]
    assert seen["id"] == consolidated_id
    assert seen["config"] == {**GCP, "logIdName": "audit_events"}

    changed = await graphql(
        UPDATE,
        {"input": {"id": consolidated_id, "name": "renamed", "config": {**GCP, "logIdName": "x"}}},
        as_=acme.owner,
    )
    assert changed["data"]["groupAuditEventStreamingDestinationsUpdate"]["errors"] == []
    listed = (await graphql(LIST, as_=acme.owner))["data"]["group"]
    legacy = listed["googleCloudLoggingConfigurations"]["nodes"][0]
    assert (legacy["id"], legacy["name"], legacy["logIdName"]) == (legacy_id, "renamed", "x")

    # A GCP id naming a destination of another kind is not this family's.
    s3 = await _create(graphql, acme, category="aws", config=S3, secretToken=S3_SECRET)
    s3_number = _number(s3["externalAuditEventDestination"]["id"])
    wrong = await graphql(
        GCP_DESTROY,
        {"id": f"gid://gitlab/AuditEvents::GoogleCloudLoggingConfiguration/{s3_number}"},
        as_=acme.owner,
    )
    assert top_level_error(wrong) == RESOURCE_NOT_AVAILABLE
    moved = await graphql(
        S3_UPDATE,
        {
            "input": {
                "id": f"gid://gitlab/AuditEvents::AmazonS3Configuration/{s3_number}",
                "bucketName": "moved",
            }
        },
        as_=acme.owner,
    )
    assert moved["data"]["auditEventsAmazonS3ConfigurationUpdate"]["errors"] == []
    listed = (await graphql(LIST, as_=acme.owner))["data"]["group"]
    assert (
        listed["externalAuditEventStreamingDestinations"]["nodes"][2]["config"]["bucketName"]
        == "moved"
    )

    assert (await graphql(DELETE, {"id": consolidated_id}, as_=acme.owner))["data"][
        "groupAuditEventStreamingDestinationsDelete"
    ] == {"errors": []}
    gone = await graphql(GCP_UPDATE, {"input": {"id": legacy_id, "name": "x"}}, as_=acme.owner)
    assert top_level_error(gone) == RESOURCE_NOT_AVAILABLE
    assert (
        await graphql(
            S3_DELETE,
            {"id": f"gid://gitlab/AuditEvents::AmazonS3Configuration/{s3_number}"},
            as_=acme.owner,
        )
    )["data"]["auditEventsAmazonS3ConfigurationDelete"] == {"errors": []}
    listed = (await graphql(LIST, as_=acme.owner))["data"]["group"]
    assert [n["category"] for n in listed["externalAuditEventStreamingDestinations"]["nodes"]] == [
        "http"
    ]


async def test_instance_families_are_for_administrators(
    graphql: RunGraphQL, acme: Acme, make_account: MakeAccount
) -> None:
    admin = await make_account("root", admin=True)
    create = """
    mutation($input: InstanceGoogleCloudLoggingConfigurationCreateInput!) {
      instanceGoogleCloudLoggingConfigurationCreate(input: $input) {
        errors instanceGoogleCloudLoggingConfiguration { id } } }
    """
    variables = {"input": {**GCP, "privateKey": KEY}}
    refused = await graphql(create, variables, as_=acme.owner)
    assert top_level_error(refused) == MUTATION_NOT_ALLOWED
    body = await graphql(create, variables, as_=admin)
    made = body["data"]["instanceGoogleCloudLoggingConfigurationCreate"]
    assert made["errors"] == []
    legacy_id = made["instanceGoogleCloudLoggingConfiguration"]["id"]
    assert legacy_id.startswith(
        "gid://gitlab/AuditEvents::Instance::GoogleCloudLoggingConfiguration/"
    )
    listed = await graphql(
        "query { auditEventsInstanceStreamingDestinations { nodes { id category config } } "
        "instanceGoogleCloudLoggingConfigurations { nodes { id } } }",
        as_=admin,
    )
    nodes = listed["data"]["auditEventsInstanceStreamingDestinations"]["nodes"]
    assert nodes == [
        {
            "id": "gid://gitlab/AuditEvents::Instance::ExternalStreamingDestination/"
            f"{_number(legacy_id)}",
            "category": "gcp",
            "config": {**GCP, "logIdName": "audit_events"},
        }
    ]
    s3 = """
    mutation($input: AuditEventsInstanceAmazonS3ConfigurationCreateInput!) {
      auditEventsInstanceAmazonS3ConfigurationCreate(input: $input) {
        errors instanceAmazonS3Configuration { id bucketName } } }
    """
    made_s3 = await graphql(s3, {"input": {**S3, "secretAccessKey": S3_SECRET}}, as_=admin)
    assert made_s3["data"]["auditEventsInstanceAmazonS3ConfigurationCreate"]["errors"] == []
    consolidated = """
    mutation($input: InstanceAuditEventStreamingDestinationsCreateInput!) {
      instanceAuditEventStreamingDestinationsCreate(input: $input) {
        errors externalAuditEventDestination { id category secretToken } } }
    """
    http = await graphql(
        consolidated,
        {"input": {"category": "http", "config": {"url": "https://i.example.com"}}},
        as_=admin,
    )
    payload = http["data"]["instanceAuditEventStreamingDestinationsCreate"]
    assert payload["errors"] == []
    assert len(payload["externalAuditEventDestination"]["secretToken"]) == 24
    refused = await graphql(
        consolidated,
        {"input": {"category": "http", "config": {"url": "https://j.example.com"}}},
        as_=acme.owner,
    )
    assert top_level_error(refused) == MUTATION_NOT_ALLOWED


async def test_delivery_mutations_take_a_consolidated_global_id(
    graphql: RunGraphQL, services: Services, acme: Acme
) -> None:
    consolidated_id = (
        f"gid://gitlab/AuditEvents::Group::ExternalStreamingDestination/{acme.destination.id}"
    )
    async with serve(Receiver()) as receiver:
        async with services.store.write() as conn:
            await dest_store.update_destination(
                conn, acme.destination.id, utcnow(), config={"url": f"{receiver.url}/t"}
            )
        sent = await graphql(TEST, {"id": consolidated_id}, as_=acme.owner)
        assert sent["data"]["auditEventsStreamingDestinationTest"] == {
            "errors": [],
            "statusCode": 200,
            "error": None,
        }
        assert receiver.requests == 1
    retried = await graphql(RETRY, {"id": consolidated_id}, as_=acme.owner)
    assert retried["data"]["auditEventsStreamingDestinationRetryFailed"] == {
        "errors": [],
        "queuedCount": 0,
    }
    replayed = await graphql(REPLAY, {"id": consolidated_id}, as_=acme.owner)
    assert replayed["data"]["auditEventsStreamingDestinationReplay"]["errors"] == []

    for category, config, secret in (("aws", S3, S3_SECRET), ("gcp", GCP, KEY)):
        made = await _create(graphql, acme, category=category, config=config, secretToken=secret)
        answered = await graphql(
            TEST, {"id": made["externalAuditEventDestination"]["id"]}, as_=acme.owner
        )
        assert "errors" not in answered, answered  # it may fail to connect; it answers
        assert answered["data"]["auditEventsStreamingDestinationTest"] is not None

    not_a_destination = await graphql(TEST, {"id": "gid://gitlab/Group/1"}, as_=acme.owner)
    assert "does not represent an audit event streaming destination" in top_level_error(
        not_a_destination
    )


LEGACY_HTTP_UPDATE = """
mutation($id: AuditEventsExternalAuditEventDestinationID!) {
  externalAuditEventDestinationUpdate(input: {id: $id, name: "hijacked"}) { errors }
}
"""
LEGACY_HTTP_DESTROY = """
mutation($id: AuditEventsExternalAuditEventDestinationID!) {
  externalAuditEventDestinationDestroy(input: {id: $id}) { errors }
}
"""
LEGACY_HTTP_HEADER = """
mutation($id: AuditEventsExternalAuditEventDestinationID!) {
  auditEventsStreamingHeadersCreate(input: {destinationId: $id, key: "X-A", value: "b"}) {
    errors
  }
}
"""


async def test_the_legacy_http_family_knows_no_destination_of_another_category(
    graphql: RunGraphQL, acme: Acme
) -> None:
    body = await graphql(
        GCP_CREATE,
        {"input": {"groupPath": "acme", **GCP, "privateKey": KEY, "name": "gcp"}},
        as_=acme.owner,
    )
    number = _number(
        body["data"]["googleCloudLoggingConfigurationCreate"]["googleCloudLoggingConfiguration"][
            "id"
        ]
    )
    http_id = f"gid://gitlab/AuditEvents::ExternalAuditEventDestination/{number}"
    for document in (LEGACY_HTTP_UPDATE, LEGACY_HTTP_HEADER, LEGACY_HTTP_DESTROY):
        refused = await graphql(document, {"id": http_id}, as_=acme.owner)
        assert top_level_error(refused) == RESOURCE_NOT_AVAILABLE
    listed = (await graphql(LIST, as_=acme.owner))["data"]["group"]
    [kept] = listed["googleCloudLoggingConfigurations"]["nodes"]
    assert kept["name"] == "gcp"
