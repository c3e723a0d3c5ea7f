"""Fixtures for seeing and steering delivery: GraphQL as an account, quick workers, and a
top-level group whose owner manages destinations that point at loopback receivers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from auditwire.domain.namespaces import Group
from auditwire.services.container import Services
from auditwire.services.context import Actor
from tests.conftest import Account, MakeAccount
from tests.integration.graphql.conftest import RunGraphQL, graphql
from tests.integration.streaming.conftest import fast_settings, start_worker

__all__ = ["fast_settings", "graphql", "start_worker"]

HEALTH = """
query($path: ID!, $outcome: AuditEventsStreamingDeliveryOutcome, $first: Int, $after: String) {
  group(fullPath: $path) {
    externalAuditEventDestinations {
      nodes {
        id
        health {
          state pendingCount failedCount lastSuccessAt lastFailureAt lastError consecutiveFailures
        }
        deliveries(outcome: $outcome, first: $first, after: $after) {
          nodes { eventId eventType attemptedAt statusCode durationMs error outcome }
          pageInfo { hasNextPage endCursor }
        }
      }
    }
  }
}
"""


@dataclass(frozen=True)
class Owned:
    """Group `acme` on Ultimate and its owner, who may manage its destinations."""

    owner: Account
    actor: Actor
    group: Group


@pytest.fixture
async def owned(services: Services, make_account: MakeAccount) -> Owned:
    owner = await make_account("owner")
    actor = Actor(owner.user)
    group = await services.namespaces.create_group(actor, path="acme", name="Acme")
    return Owned(owner, actor, group)


DestinationView = Callable[..., Any]


@pytest.fixture
def destination_view(graphql: RunGraphQL, owned: Owned) -> DestinationView:
    """`await destination_view(outcome=None)`: the owner's view of acme's only destination."""

    async def view(**variables: Any) -> dict[str, Any]:
        body = await graphql(HEALTH, {"path": "acme", **variables}, as_=owned.owner)
        assert "errors" not in body, body
        [node] = body["data"]["group"]["externalAuditEventDestinations"]["nodes"]
        found: dict[str, Any] = node
        return found

    return view
