"""GitLab's Google Cloud Logging family: `googleCloudLoggingConfigurationCreate/Update/Destroy`
and their instance twins, a view of the destinations of category `gcp`."""

from __future__ import annotations

import re

import strawberry

from auditwire.api.graphql._kind_family import Argument, KindFamily, events
from auditwire.api.graphql._mutation import actor, destinations, given, instance_owner, view
from auditwire.api.graphql.context import Info
from auditwire.api.graphql.ids import GcpConfigurationID, InstanceGcpConfigurationID
from auditwire.api.graphql.kind_types import GcpConfigurationType, InstanceGcpConfigurationType
from auditwire.domain.categories import GCP
from auditwire.domain.destination_events import Family
from auditwire.domain.destinations import Destination
from auditwire.domain.owner import OwnerKind

DEFAULT_LOG_ID_NAME = "audit_events"  # GitLab's older default; the consolidated one differs

GCP_FAMILY = KindFamily(
    category=GCP,
    arguments=(
        Argument(
            "googleProjectIdName",
            "Google project id name",
            re.compile(r"\A[a-z][a-z0-9-]*[a-z0-9]\Z"),
            "must only contain lowercase letters, digits, or hyphens, and must start with a "
            "letter and end with a letter or a digit",
            max_length=30,
            min_length=6,
        ),
        Argument(
            "clientEmail",
            "Client email",
            re.compile(r"\A[^@\s]+@[^@\s]+\Z"),
            "is invalid",
            max_length=254,
        ),
        Argument(
            "logIdName",
            "Log id name",
            re.compile(r"\A[\w/.-]+\Z", re.ASCII),
            "must only contain letters, digits, forward-slash, underscore, hyphen or period",
            max_length=511,
        ),
    ),
    secret_label="Private key",
    events=Family(
        events=events("google_cloud_logging_configuration"),
        url_field="config",
        taken_message="Google project id name has already been taken",
    ),
    limit_message="Maximum number of google cloud logging configurations (5) exceeded",
)

NAME = "Destination name."
PROJECT = (
    "Unique identifier of the Google Cloud project to which the logging configuration belongs."
)
EMAIL = (
    "Email address associated with the service account that will be used to authenticate and "
    "interact with the Google Cloud Logging service. This is part of the IAM credentials."
)
LOG_ID = (
    "Unique identifier used to distinguish and manage different logs within the same Google "
    "Cloud project."
)
KEY = (
    "Private Key associated with the service account. This key is used to authenticate the "
    "service account and authorize it to interact with the Google Cloud Logging service."
)


@strawberry.input
class _CreateFields:
    google_project_id_name: str = strawberry.field(description=PROJECT)
    client_email: str = strawberry.field(description=EMAIL)
    private_key: str = strawberry.field(description=KEY)
    name: str | None = strawberry.field(default=strawberry.UNSET, description=NAME)
    log_id_name: str | None = strawberry.field(
        default=DEFAULT_LOG_ID_NAME, description=f"{LOG_ID}(defaults to `audit_events`)."
    )
    client_mutation_id: str | None = strawberry.UNSET

    def values(self) -> dict[str, str | None]:
        return {
            "googleProjectIdName": self.google_project_id_name,
            "clientEmail": self.client_email,
            "logIdName": given(self.log_id_name) or DEFAULT_LOG_ID_NAME,
        }


@strawberry.input(name="GoogleCloudLoggingConfigurationCreateInput")
class CreateInput(_CreateFields):
    group_path: strawberry.ID = strawberry.field(description="Group path.")


@strawberry.input(name="InstanceGoogleCloudLoggingConfigurationCreateInput")
class InstanceCreateInput(_CreateFields):
    pass


@strawberry.input
class _UpdateFields:
    name: str | None = strawberry.field(default=strawberry.UNSET, description=NAME)
    google_project_id_name: str | None = strawberry.field(
        default=strawberry.UNSET, description=PROJECT
    )
    client_email: str | None = strawberry.field(default=strawberry.UNSET, description=EMAIL)
    log_id_name: str | None = strawberry.field(default=strawberry.UNSET, description=LOG_ID)
    private_key: str | None = strawberry.field(default=strawberry.UNSET, description=KEY)
    active: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Active status of the destination."
    )
    client_mutation_id: str | None = strawberry.UNSET

    def values(self) -> dict[str, str | None]:
        return {
            "googleProjectIdName": given(self.google_project_id_name),
            "clientEmail": given(self.client_email),
            "logIdName": given(self.log_id_name),
        }


@strawberry.input(name="GoogleCloudLoggingConfigurationUpdateInput")
class UpdateInput(_UpdateFields):
    id: GcpConfigurationID = strawberry.field(
        description="ID of the google Cloud configuration to update."
    )


@strawberry.input(name="InstanceGoogleCloudLoggingConfigurationUpdateInput")
class InstanceUpdateInput(_UpdateFields):
    id: InstanceGcpConfigurationID = strawberry.field(
        description="ID of the instance google Cloud configuration to update."
    )


@strawberry.input(name="GoogleCloudLoggingConfigurationDestroyInput")
class DestroyInput:
    id: GcpConfigurationID = strawberry.field(
        description="ID of the Google Cloud logging configuration to destroy."
    )
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.input(name="InstanceGoogleCloudLoggingConfigurationDestroyInput")
class InstanceDestroyInput:
    id: InstanceGcpConfigurationID = strawberry.field(
        description="ID of the Google Cloud logging configuration to destroy."
    )
    client_mutation_id: str | None = strawberry.UNSET


@strawberry.type(name="GoogleCloudLoggingConfigurationCreatePayload")
class CreatePayload:
    client_mutation_id: str | None
    errors: list[str]
    google_cloud_logging_configuration: GcpConfigurationType | None = strawberry.field(
        description="configuration created."
    )


@strawberry.type(name="GoogleCloudLoggingConfigurationUpdatePayload")
class UpdatePayload:
    client_mutation_id: str | None
    errors: list[str]
    google_cloud_logging_configuration: GcpConfigurationType | None = strawberry.field(
        description="configuration updated."
    )


@strawberry.type(name="InstanceGoogleCloudLoggingConfigurationCreatePayload")
class InstanceCreatePayload:
    client_mutation_id: str | None
    errors: list[str]
    instance_google_cloud_logging_configuration: InstanceGcpConfigurationType | None = (
        strawberry.field(description="configuration created.")
    )


@strawberry.type(name="InstanceGoogleCloudLoggingConfigurationUpdatePayload")
class InstanceUpdatePayload:
    client_mutation_id: str | None
    errors: list[str]
    instance_google_cloud_logging_configuration: InstanceGcpConfigurationType | None = (
        strawberry.field(description="configuration updated.")
    )


@strawberry.type(name="GoogleCloudLoggingConfigurationDestroyPayload")
class DestroyPayload:
    client_mutation_id: str | None
    errors: list[str]


@strawberry.type(name="InstanceGoogleCloudLoggingConfigurationDestroyPayload")
class InstanceDestroyPayload:
    client_mutation_id: str | None
    errors: list[str]


async def _update(
    info: Info, input: UpdateInput | InstanceUpdateInput, kind: OwnerKind
) -> tuple[Destination | None, list[str]]:
    return await GCP_FAMILY.update(
        info,
        input.id,
        kind,
        input.values(),
        secret=given(input.private_key),
        name=given(input.name),
        active=given(input.active),
    )


@strawberry.type
class GcpConfigurationMutations:
    @strawberry.mutation(name="googleCloudLoggingConfigurationCreate")
    async def gcp_create(self, info: Info, input: CreateInput) -> CreatePayload | None:
        owner = destinations(info).group_owner(actor(info), input.group_path)
        created, errors = await GCP_FAMILY.create(
            info, owner, input.values(), input.private_key, given(input.name)
        )
        return CreatePayload(
            client_mutation_id=given(input.client_mutation_id),
            errors=errors,
            google_cloud_logging_configuration=view(GcpConfigurationType, created),
        )

    @strawberry.mutation(name="googleCloudLoggingConfigurationUpdate")
    async def gcp_update(self, info: Info, input: UpdateInput) -> UpdatePayload | None:
        updated, errors = await _update(info, input, OwnerKind.GROUP)
        return UpdatePayload(
            client_mutation_id=given(input.client_mutation_id),
            errors=errors,
            google_cloud_logging_configuration=view(GcpConfigurationType, updated),
        )

    @strawberry.mutation(name="googleCloudLoggingConfigurationDestroy")
    async def gcp_destroy(self, info: Info, input: DestroyInput) -> DestroyPayload | None:
        errors = await GCP_FAMILY.delete(info, input.id, OwnerKind.GROUP)
        return DestroyPayload(client_mutation_id=given(input.client_mutation_id), errors=errors)

    @strawberry.mutation(name="instanceGoogleCloudLoggingConfigurationCreate")
    async def gcp_instance_create(
        self, info: Info, input: InstanceCreateInput
    ) -> InstanceCreatePayload | None:
        created, errors = await GCP_FAMILY.create(
            info, instance_owner(info), input.values(), input.private_key, given(input.name)
        )
        return InstanceCreatePayload(
            client_mutation_id=given(input.client_mutation_id),
            errors=errors,
            instance_google_cloud_logging_configuration=view(InstanceGcpConfigurationType, created),
        )

    @strawberry.mutation(name="instanceGoogleCloudLoggingConfigurationUpdate")
    async def gcp_instance_update(
        self, info: Info, input: InstanceUpdateInput
    ) -> InstanceUpdatePayload | None:
        updated, errors = await _update(info, input, OwnerKind.INSTANCE)
        return InstanceUpdatePayload(
            client_mutation_id=given(input.client_mutation_id),
            errors=errors,
            instance_google_cloud_logging_configuration=view(InstanceGcpConfigurationType, updated),
        )

    @strawberry.mutation(name="instanceGoogleCloudLoggingConfigurationDestroy")
    async def gcp_instance_destroy(
        self, info: Info, input: InstanceDestroyInput
    ) -> InstanceDestroyPayload | None:
        errors = await GCP_FAMILY.delete(info, input.id, OwnerKind.INSTANCE)
        return InstanceDestroyPayload(
            client_mutation_id=given(input.client_mutation_id), errors=errors
        )
