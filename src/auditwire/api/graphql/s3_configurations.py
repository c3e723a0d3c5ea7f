"""GitLab's Amazon S3 family: `auditEventsAmazonS3ConfigurationCreate/Update/Delete` and their
instance twins, a view of the destinations of category `aws`."""

from __future__ import annotations

import re

import strawberry

from auditwire.api.graphql._kind_family import Argument, KindFamily, events
from auditwire.api.graphql._mutation import actor, destinations, given, instance_owner, view
from auditwire.api.graphql.context import Info
from auditwire.api.graphql.ids import InstanceS3ConfigurationID, S3ConfigurationID
from auditwire.api.graphql.kind_types import InstanceS3ConfigurationType, S3ConfigurationType
from auditwire.domain.categories import AWS
from auditwire.domain.destination_events import Family
from auditwire.domain.destinations import Destination
from auditwire.domain.owner import OwnerKind

S3_FAMILY = KindFamily(
    category=AWS,
    arguments=(
        Argument(
            "accessKeyXid",
            "Access key xid",
            re.compile(r"\A\w+\Z", re.ASCII),
            "must only contain letters, digits or underscore",
            max_length=128,
            min_length=16,
        ),
        Argument(
            "bucketName",
            "Bucket name",
            re.compile(r"\A[a-z0-9][a-z0-9\-.]*\Z"),
            "is invalid",
            max_length=63,
        ),
        # The region's own rule (a region code) is the consolidated config's.
        Argument("awsRegion", "Aws region", re.compile(r"\S"), "is invalid", max_length=50),
    ),
    secret_label="Secret access key",
    events=Family(
        events=events("amazon_s3_configuration"),
        url_field="config",
        taken_message="Bucket name has already been taken",
    ),
    limit_message="Maximum number of audit events amazon s3 configurations (5) exceeded",
)

NAME = "Destination name."
ACCESS_KEY = "Access key ID of the Amazon S3 account."
SECRET = "Secret access key of the Amazon S3 account."
BUCKET = "Name of the bucket where the audit events would be logged."
REGION = "AWS region where the bucket is created."


@strawberry.input
class _CreateFields:
    access_key_xid: str = strawberry.field(description=ACCESS_KEY)
    secret_access_key: str = strawberry.field(description=SECRET)
    bucket_name: str = strawberry.field(description=BUCKET)
    aws_region: str = strawberry.field(description=REGION)
    name: str | None = strawberry.field(default=strawberry.UNSET, description=NAME)
    client_mutation_id: str | None = strawberry.UNSET

    def values(self) -> dict[str, str | None]:
        return {
            "accessKeyXid": self.access_key_xid,
            "bucketName": self.bucket_name,
            "awsRegion": self.aws_region,
        }


@strawberry.input(name="AuditEventsAmazonS3ConfigurationCreateInput")
class CreateInput(_CreateFields):
    group_path: strawberry.ID = strawberry.field(description="Group path.")


@strawberry.input(name="AuditEventsInstanceAmazonS3ConfigurationCreateInput")
class InstanceCreateInput(_CreateFields):
    pass


@strawberry.input
class _UpdateFields:
    name: str | None = strawberry.field(default=strawberry.UNSET, description=NAME)
    access_key_xid: str | None = strawberry.field(default=strawberry.UNSET, description=ACCESS_KEY)
    secret_access_key: str | None = strawberry.field(default=strawberry.UNSET, description=SECRET)
    bucket_name: str | None = strawberry.field(default=strawberry.UNSET, description=BUCKET)
    aws_region: str | None = strawberry.field(default=strawberry.UNSET, description=REGION)
    active: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Active status of the destination."
    )
    client_mutation_id: str | None = strawberry.UNSET

    def values(self) -> dict[str, str | None]:
        return {
            "accessKeyXid": given(self.access_key_xid),
            "bucketName": given(self.bucket_name),
            "awsRegion": given(self.aws_region),
        }


@strawberry.input(name="AuditEventsAmazonS3ConfigurationUpdateInput")
class UpdateInput(_UpdateFields):
    id: S3ConfigurationID = strawberry.field(
        description="ID of the Amazon S3 configuration to update."
    )


@strawberry.input(name="AuditEventsInstanceAmazonS3ConfigurationUpdateInput")
class InstanceUpdateInput(_UpdateFields):
    id: InstanceS3ConfigurationID = strawberry.field(
        description="ID of the instance-level Amazon S3 configuration to update."
    )


@strawberry.input(name="AuditEventsAmazonS3ConfigurationDeleteInput")
class DeleteInput:
    id: S3ConfigurationID = strawberry.field(
        description="ID of the Amazon S3 configuration to destroy."
    )
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.input(name="AuditEventsInstanceAmazonS3ConfigurationDeleteInput")
class InstanceDeleteInput:
    id: InstanceS3ConfigurationID = strawberry.field(
        description="ID of the instance-level Amazon S3 configuration to delete."
    )
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.type(name="AuditEventsAmazonS3ConfigurationCreatePayload")
class CreatePayload:
    client_mutation_id: str | None
    errors: list[str]
    amazon_s3_configuration: S3ConfigurationType | None = strawberry.field(
        description="configuration created."
    )


@strawberry.type(name="AuditEventsAmazonS3ConfigurationUpdatePayload")
class UpdatePayload:
    client_mutation_id: str | None
    errors: list[str]
    amazon_s3_configuration: S3ConfigurationType | None = strawberry.field(
        description="Updated Amazon S3 configuration."
    )


@strawberry.type(name="AuditEventsInstanceAmazonS3ConfigurationCreatePayload")
class InstanceCreatePayload:
    client_mutation_id: str | None
    errors: list[str]
    instance_amazon_s3_configuration: InstanceS3ConfigurationType | None = strawberry.field(
        description="Created instance Amazon S3 configuration."
    )


@strawberry.type(name="AuditEventsInstanceAmazonS3ConfigurationUpdatePayload")
class InstanceUpdatePayload:
    client_mutation_id: str | None
    errors: list[str]
    instance_amazon_s3_configuration: InstanceS3ConfigurationType | None = strawberry.field(
        description="Updated instance-level Amazon S3 configuration."
    )


@strawberry.type(name="AuditEventsAmazonS3ConfigurationDeletePayload")
class DeletePayload:
    client_mutation_id: str | None
    errors: list[str]


@strawberry.type(name="AuditEventsInstanceAmazonS3ConfigurationDeletePayload")
class InstanceDeletePayload:
    client_mutation_id: str | None
    errors: list[str]


async def _update(
    info: Info, input: UpdateInput | InstanceUpdateInput, kind: OwnerKind
) -> tuple[Destination | None, list[str]]:
    return await S3_FAMILY.update(
        info,
        input.id,
        kind,
        input.values(),
        secret=given(input.secret_access_key),
        name=given(input.name),
        active=given(input.active),
    )


@strawberry.type
class S3ConfigurationMutations:
    @strawberry.mutation(name="auditEventsAmazonS3ConfigurationCreate")
    async def s3_create(self, info: Info, input: CreateInput) -> CreatePayload | None:
        owner = destinations(info).group_owner(actor(info), input.group_path)
        created, errors = await S3_FAMILY.create(
            info, owner, input.values(), input.secret_access_key, given(input.name)
        )
        return CreatePayload(
            client_mutation_id=given(input.client_mutation_id),
            errors=errors,
            amazon_s3_configuration=view(S3ConfigurationType, created),
        )

    @strawberry.mutation(name="auditEventsAmazonS3ConfigurationUpdate")
    async def s3_update(self, info: Info, input: UpdateInput) -> UpdatePayload | None:
        updated, errors = await _update(info, input, OwnerKind.GROUP)
        return UpdatePayload(
            client_mutation_id=given(input.client_mutation_id),
            errors=errors,
            amazon_s3_configuration=view(S3ConfigurationType, updated),
        )

    @strawberry.mutation(name="auditEventsAmazonS3ConfigurationDelete")
    async def s3_delete(self, info: Info, input: DeleteInput) -> DeletePayload | None:
        errors = await S3_FAMILY.delete(info, input.id, OwnerKind.GROUP)
        return DeletePayload(client_mutation_id=given(input.client_mutation_id), errors=errors)

    @strawberry.mutation(name="auditEventsInstanceAmazonS3ConfigurationCreate")
    async def s3_instance_create(
        self, info: Info, input: InstanceCreateInput
    ) -> InstanceCreatePayload | None:
        created, errors = await S3_FAMILY.create(
            info, instance_owner(info), input.values(), input.secret_access_key, given(input.name)
        )
        return InstanceCreatePayload(
            client_mutation_id=given(input.client_mutation_id),
            errors=errors,
            instance_amazon_s3_configuration=view(InstanceS3ConfigurationType, created),
        )

    @strawberry.mutation(name="auditEventsInstanceAmazonS3ConfigurationUpdate")
    async def s3_instance_update(
        self, info: Info, input: InstanceUpdateInput
    ) -> InstanceUpdatePayload | None:
        updated, errors = await _update(info, input, OwnerKind.INSTANCE)
        return InstanceUpdatePayload(
            client_mutation_id=given(input.client_mutation_id),
            errors=errors,
            instance_amazon_s3_configuration=view(InstanceS3ConfigurationType, updated),
        )

    @strawberry.mutation(name="auditEventsInstanceAmazonS3ConfigurationDelete")
    async def s3_instance_delete(
        self, info: Info, input: InstanceDeleteInput
    ) -> InstanceDeletePayload | None:
        errors = await S3_FAMILY.delete(info, input.id, OwnerKind.INSTANCE)
        return InstanceDeletePayload(
            client_mutation_id=given(input.client_mutation_id), errors=errors
        )
