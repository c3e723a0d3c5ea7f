"""The GraphQL schema, its error policy, and `python -m auditwire.api.graphql.schema [FILE]`.

Run as a module, it prints the schema in SDL to FILE (default `schema.graphql` in the current
directory; `-` for standard output), which is how the repository's `schema.graphql` is made.
"""

from __future__ import annotations

import logging
import sys
from datetime import datetime
from pathlib import Path

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from auditwire.api.graphql.delivery_mutations import DeliveryMutations
from auditwire.api.graphql.delivery_types import TIME
from auditwire.api.graphql.gcp_configurations import GcpConfigurationMutations
from auditwire.api.graphql.ids import SCALARS
from auditwire.api.graphql.instance_mutations import InstanceMutations
from auditwire.api.graphql.limits import QueryLimits
from auditwire.api.graphql.mutations import GroupMutations
from auditwire.api.graphql.queries import Query
from auditwire.api.graphql.s3_configurations import S3ConfigurationMutations
from auditwire.api.graphql.streaming_destinations import StreamingDestinationMutations
from auditwire.api.graphql.streaming_filters import StreamingFilterMutations
from auditwire.errors import AuditwireError

logger = logging.getLogger(__name__)

INTERNAL_ERROR = "Internal server error"
DEFAULT_OUTPUT = "schema.graphql"


def _unexpected(error: GraphQLError) -> bool:
    """A resolver failed in a way nobody planned for: hide the details from the caller, log them.

    auditwire's own errors carry the message meant for the caller; GraphQL's syntax, validation
    and coercion errors describe the request itself. Both are shown as they are.
    """
    original = error.original_error
    if original is None or isinstance(original, (AuditwireError, GraphQLError)):
        return False
    if error.path is None:  # raised before execution: coercing the request's variables
        return False
    logger.error("GraphQL resolver failed at %s", error.path, exc_info=original)
    return True


class AuditwireSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Expected errors are answers, not incidents; unexpected ones are logged when masked."""


class MaskUnexpectedErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=_unexpected, error_message=INTERNAL_ERROR)


Mutation = merge_types(
    "Mutation",
    (
        GroupMutations,
        InstanceMutations,
        StreamingDestinationMutations,
        StreamingFilterMutations,
        GcpConfigurationMutations,
        S3ConfigurationMutations,
        DeliveryMutations,
    ),
)

schema = AuditwireSchema(
    query=Query,
    mutation=Mutation,
    config=StrawberryConfig(scalar_map={**SCALARS, datetime: TIME}),
    extensions=[QueryLimits, MaskUnexpectedErrors],
)


def schema_sdl() -> str:
    """The schema in GraphQL SDL, as committed in `schema.graphql`."""
    return schema.as_str() + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    target = args[0] if args else DEFAULT_OUTPUT
    if target == "-":
        sys.stdout.write(schema_sdl())
    else:
        Path(target).write_text(schema_sdl())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
