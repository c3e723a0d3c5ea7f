"""GitLab's types of the per-kind legacy families: Google Cloud Logging and Amazon S3
configurations of a group and of the instance. Each is a view of a destination of that
category; its id is the destination's id under the family's own model name."""

from __future__ import annotations

from typing import ClassVar

import strawberry

from auditwire.api.graphql import ids
from auditwire.api.graphql.context import Info
from auditwire.api.graphql.delivery_types import DeliveryFields
from auditwire.api.graphql.streaming_types import LazyGroup, owning_group
from auditwire.domain.owner import OwnerKind


@strawberry.type
class _ConfigurationFields(DeliveryFields):
    """What both kinds show: the id under the family's model, the name, whether active."""

    model: ClassVar[str] = ids.GCP_CONFIGURATION

    @strawberry.field(description="ID of the configuration.")
    def id(self) -> strawberry.ID:
        return ids.gid(self.model, self.destination.id)

    @strawberry.field(description="Name of the external destination to send audit events to.")
    def name(self) -> str:
        return self.destination.name

    @strawberry.field(description="Active status of the destination.")
    def active(self) -> bool:
        return self.destination.active

    def _config(self, key: str) -> str:
        return str(self.destination.config.get(key, ""))


@strawberry.type
class _GcpFields(_ConfigurationFields):
    @strawberry.field(description="Google project ID.")
    def google_project_id_name(self) -> str:
        return self._config("googleProjectIdName")

    @strawberry.field(description="Client email.")
    def client_email(self) -> str:
        return self._config("clientEmail")

    @strawberry.field(description="Log ID.")
    def log_id_name(self) -> str:
        return self._config("logIdName")


@strawberry.type
class _S3Fields(_ConfigurationFields):
    model = ids.S3_CONFIGURATION

    @strawberry.field(description="Access key ID of the Amazon S3 account.")
    def access_key_xid(self) -> str:
        return self._config("accessKeyXid")

    @strawberry.field(description="Name of the bucket where the audit events would be logged.")
    def bucket_name(self) -> str:
        return self._config("bucketName")

    @strawberry.field(description="AWS region where the bucket is created.")
    def aws_region(self) -> str:
        return self._config("awsRegion")


@strawberry.type(
    name="GoogleCloudLoggingConfigurationType",
    description="Stores Google Cloud Logging configurations associated with IAM service "
    "accounts,used for generating access tokens.",
)
class GcpConfigurationType(_GcpFields):
    @strawberry.field(description="Group the configuration belongs to.")
    async def group(self, info: Info) -> LazyGroup:
        return await owning_group(info, self.destination)


@strawberry.type(
    name="InstanceGoogleCloudLoggingConfigurationType",
    description="Stores instance level Google Cloud Logging configurations associated with IAM "
    "service accounts,used for generating access tokens.",
)
class InstanceGcpConfigurationType(_GcpFields):
    kind = OwnerKind.INSTANCE
    model = ids.INSTANCE_GCP_CONFIGURATION


@strawberry.type(name="AmazonS3ConfigurationType", description="Stores Amazon S3 configurations.")
class S3ConfigurationType(_S3Fields):
    @strawberry.field(description="Group the configuration belongs to.")
    async def group(self, info: Info) -> LazyGroup:
        return await owning_group(info, self.destination)


@strawberry.type(
    name="InstanceAmazonS3ConfigurationType",
    description="Stores instance level Amazon S3 configurations for audit event streaming.",
)
class InstanceS3ConfigurationType(_S3Fields):
    kind = OwnerKind.INSTANCE
    model = ids.INSTANCE_S3_CONFIGURATION
