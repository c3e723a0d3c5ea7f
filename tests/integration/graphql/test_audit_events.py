"""Every change to a destination records GitLab's audit event, about the group or the instance."""

from __future__ import annotations

import pytest

from auditwire.errors import InvalidInput
from auditwire.services.container import Services
from auditwire.services.context import Actor
from auditwire.services.events import EventQuery
from tests.conftest import Account, MakeAccount
from tests.integration.graphql.conftest import RunGraphQL
from tests.integration.graphql.test_authorization import OPERATIONS, build_world

EXPECTED = {
    "externalAuditEventDestinationCreate": "create_event_streaming_destination",
    "externalAuditEventDestinationUpdate": "update_event_streaming_destination",
    "auditEventsStreamingHeadersCreate": "audit_events_streaming_headers_create",
    "auditEventsStreamingHeadersUpdate": "audit_events_streaming_headers_update",
    "auditEventsStreamingDestinationEventsAdd": "event_type_filters_created",
    "auditEventsStreamingDestinationEventsRemove": "event_type_filters_deleted",
    "auditEventsStreamingHTTPNamespaceFiltersDelete": "delete_http_namespace_filter",
    "auditEventsStreamingHTTPNamespaceFiltersAdd": "create_http_namespace_filter",
    "auditEventsStreamingHeadersDestroy": "audit_events_streaming_headers_destroy",
    "externalAuditEventDestinationDestroy": "destroy_event_streaming_destination",
    "instanceExternalAuditEventDestinationCreate": "create_instance_event_streaming_destination",
    "instanceExternalAuditEventDestinationUpdate": "update_instance_event_streaming_destination",
    "auditEventsStreamingInstanceHeadersCreate": "audit_events_streaming_instance_headers_create",
    "auditEventsStreamingInstanceHeadersUpdate": "audit_events_streaming_instance_headers_update",
    "auditEventsStreamingDestinationInstanceEventsAdd": "event_type_filters_created",
    "auditEventsStreamingDestinationInstanceEventsRemove": "event_type_filters_deleted",
    "auditEventsStreamingInstanceHeadersDestroy": "audit_events_streaming_instance_headers_destroy",
    "instanceExternalAuditEventDestinationDestroy": "destroy_instance_event_streaming_destination",
    # The consolidated API and the per-kind families, each under its own event types.
    "googleCloudLoggingConfigurationUpdate": "google_cloud_logging_configuration_updated",
    "auditEventsAmazonS3ConfigurationUpdate": "amazon_s3_configuration_updated",
    "groupAuditEventStreamingDestinationsUpdate": "updated_group_audit_event_streaming_destination",
    "auditEventsGroupDestinationEventsAdd": "event_type_filters_created",
    "auditEventsGroupDestinationEventsDelete": "event_type_filters_deleted",
    "auditEventsGroupDestinationNamespaceFilterCreate": "create_http_namespace_filter",
    "auditEventsGroupDestinationNamespaceFilterDelete": "delete_http_namespace_filter",
    "groupAuditEventStreamingDestinationsCreate": "created_group_audit_event_streaming_destination",
    "googleCloudLoggingConfigurationCreate": "google_cloud_logging_configuration_created",
    "auditEventsAmazonS3ConfigurationCreate": "amazon_s3_configuration_created",
    "auditEventsAmazonS3ConfigurationDelete": "amazon_s3_configuration_deleted",
    "groupAuditEventStreamingDestinationsDelete": "deleted_group_audit_event_streaming_destination",
    "googleCloudLoggingConfigurationDestroy": "google_cloud_logging_configuration_deleted",
    "instanceGoogleCloudLoggingConfigurationUpdate": (
        "instance_google_cloud_logging_configuration_updated"
    ),
    "auditEventsInstanceAmazonS3ConfigurationUpdate": "instance_amazon_s3_configuration_updated",
    "instanceAuditEventStreamingDestinationsUpdate": (
        "updated_instance_audit_event_streaming_destination"
    ),
    "auditEventsInstanceDestinationEventsAdd": "event_type_filters_created",
    "auditEventsInstanceDestinationEventsDelete": "event_type_filters_deleted",
    "auditEventsInstanceDestinationNamespaceFilterCreate": "create_http_namespace_filter",
    "auditEventsInstanceDestinationNamespaceFilterDelete": "delete_http_namespace_filter",
    "instanceAuditEventStreamingDestinationsCreate": (
        "created_instance_audit_event_streaming_destination"
    ),
    "instanceGoogleCloudLoggingConfigurationCreate": (
        "instance_google_cloud_logging_configuration_created"
    ),
    "auditEventsInstanceAmazonS3ConfigurationCreate": "instance_amazon_s3_configuration_created",
    "auditEventsInstanceAmazonS3ConfigurationDelete": "instance_amazon_s3_configuration_deleted",
    "instanceAuditEventStreamingDestinationsDelete": (
        "deleted_instance_audit_event_streaming_destination"
    ),
    "instanceGoogleCloudLoggingConfigurationDestroy": (
        "instance_google_cloud_logging_configuration_deleted"
    ),
}

# GitLab's custom messages, for the operations whose wording clients may match on.
MESSAGES = {
    "externalAuditEventDestinationCreate": (
        "Create event streaming destination https://siem.example.com/new"
    ),
    "instanceExternalAuditEventDestinationCreate": (
        "Create instance event streaming destination https://siem.example.com/new-instance"
    ),
    "auditEventsStreamingDestinationEventsAdd": (
        "Created audit event type filter(s): project_created"
    ),
    "auditEventsStreamingHTTPNamespaceFiltersAdd": (
        "Create namespace filter for http audit event streaming destination renamed "
        "and namespace acme/team/app"
    ),
}


async def test_each_mutation_records_its_audit_event(
    graphql: RunGraphQL, services: Services, make_account: MakeAccount
) -> None:
    world = await build_world("administrator", services, make_account)
    assert world.account is not None
    assert set(EXPECTED) == {o.field for o in OPERATIONS}
    for operation in OPERATIONS:
        (before,), _ = await services.events.list(EventQuery(), offset=0, limit=1)
        body = await graphql(
            operation.document(), {"input": operation.variables(world)}, as_=world.account
        )
        assert body["data"][operation.field]["errors"] == [], body
        events, _ = await services.events.list(EventQuery(), offset=0, limit=5)
        new = [e for e in events if e.id > before.id]
        assert [e.event_type for e in new] == [EXPECTED[operation.field]], operation.field
        event = new[0]
        assert event.author_id == world.account.user.id
        if operation.family == "group":
            assert (event.entity_type, event.entity_path) == ("Group", "acme")
            assert event.root_group_id == event.entity_id
        else:
            assert (event.entity_type, event.root_group_id) == ("Instance", None)
        assert event.details["custom_message"]
        if operation.field in MESSAGES:
            assert event.details["custom_message"] == MESSAGES[operation.field]


async def test_refused_and_failed_mutations_record_nothing(
    graphql: RunGraphQL, services: Services, make_account: MakeAccount
) -> None:
    world = await build_world("maintainer", services, make_account)
    (before,), _ = await services.events.list(EventQuery(), offset=0, limit=1)
    for operation in OPERATIONS:
        body = await graphql(
            operation.document(), {"input": operation.variables(world)}, as_=world.account
        )
        assert body["data"][operation.field] is None
    owner = Account(await services.users.get_by_username("owner"), "")
    duplicate = await services.destinations.group_destinations(
        Actor(owner.user), (await services.namespaces.group(Actor(owner.user), "acme"))[0]
    )
    assert duplicate is not None
    with pytest.raises(InvalidInput, match="Destination url has already been taken"):
        await services.destinations.create_group_destination(
            Actor(owner.user), group_path="acme", destination_url=duplicate[0].destination_url
        )
    (after,), _ = await services.events.list(EventQuery(), offset=0, limit=1)
    assert after.id == before.id
