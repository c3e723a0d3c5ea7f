"""What every mutation shares: `clientMutationId` in and out, rule violations in `errors`."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from graphql import GraphQLError
from strawberry import UNSET

from auditwire.api.graphql.context import Info
from auditwire.api.graphql.delivery_types import DeliveryFields
from auditwire.domain.destinations import (
    EVENT_TYPES_MISSING,
    EVENT_TYPES_TOO_MANY,
    MAX_EVENT_TYPES_PER_CALL,
    Destination,
)
from auditwire.domain.owner import Owner, OwnerKind
from auditwire.errors import Conflict, InvalidInput
from auditwire.services.context import Actor
from auditwire.services.destinations import DestinationService

T = TypeVar("T")
V = TypeVar("V", bound=DeliveryFields)


async def attempt(call: Awaitable[T]) -> tuple[T | None, list[str]]:
    """Run a change; a broken rule becomes the payload's `errors` (GitLab's messages).

    Permission failures are not caught: they surface as top-level GraphQL errors, as GitLab's.
    """
    try:
        return await call, []
    except (InvalidInput, Conflict) as error:
        return None, [error.message]


def given(value: T | None) -> T | None:
    """An optional argument's value, or None when it was omitted (UNSET) or null."""
    return None if value is UNSET else value


def destinations(info: Info) -> DestinationService:
    return info.context.services.destinations


def actor(info: Info) -> Actor | None:
    return info.context.actor


def require_event_types(event_types: list[str]) -> None:
    """GitLab checks this argument before anything else and answers with a GraphQL error."""
    if not event_types:
        raise GraphQLError(EVENT_TYPES_MISSING)
    if len(event_types) > MAX_EVENT_TYPES_PER_CALL:
        raise GraphQLError(EVENT_TYPES_TOO_MANY)


def view(type_: type[V], destination: Destination | None) -> V | None:
    """The destination seen through one family's type, when there is one."""
    return type_(destination=destination) if destination is not None else None


def instance_owner(info: Info) -> Owner:
    """The instance as owner; refused with GitLab's words for anyone but an administrator."""
    destinations(info).access.writer(actor(info), OwnerKind.INSTANCE)
    return destinations(info).instance_owner(actor(info))


async def managed(info: Info, destination_id: int, kind: OwnerKind) -> Destination:
    """The destination, when the caller may change it; GitLab finds (and so authorizes) a
    mutation's object before it validates any argument."""
    destinations(info).access.writer(actor(info), kind)
    found, _ = await destinations(info).get(actor(info), destination_id, kind=kind)
    return found
