"""Documents built to exhaust the server are refused with a GraphQL error before they run."""

from __future__ import annotations

from typing import Any

import httpx
import sqlalchemy as sa
from graphql import get_introspection_query
from sqlalchemy import event

from auditwire.api.graphql.limits import (
    ADMIN_MAX_COMPLEXITY,
    DEFAULT_MAX_COMPLEXITY,
    READS_PER_REQUEST,
    full_introspection_query,
)
from auditwire.api.graphql.request_checks import MAX_QUERY_SIZE, QUERY_TOO_LARGE
from auditwire.services.container import Services
from auditwire.services.context import Actor
from auditwire.store import Store
from tests.conftest import Account
from tests.integration.graphql.conftest import ENDPOINT, RunGraphQL
from tests.integration.graphql.hostile import (
    FRAGMENT_LEVELS,
    aliases,
    fragment_bomb,
    instance_health,
    string_literal,
)


async def post(client: httpx.AsyncClient, query: str, account: Account | None = None) -> Any:
    headers = account.headers if account else {}
    return await client.post(ENDPOINT, json={"query": query}, headers=headers)


async def test_fifteen_levels_of_fragments_spread_three_times_are_refused_anonymously(
    graphql: RunGraphQL,
) -> None:
    document = fragment_bomb()
    assert len(document) < 1_500
    body = await graphql(document)
    assert body.get("data") is None
    # The full expansion's figure: F15 costs 1, each level above three of it plus
    # `x: currentUser { id }` (2); found while each fragment is measured only once.
    expanded = 1
    for _level in range(FRAGMENT_LEVELS):
        expanded = 3 * expanded + 2
    assert body["errors"] == [
        {
            "message": f"Query has complexity of {expanded}, "
            f"which exceeds max complexity of {DEFAULT_MAX_COMPLEXITY}"
        }
    ]


async def test_a_fragment_cycle_is_refused_without_looping(graphql: RunGraphQL) -> None:
    body = await graphql("query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }")
    assert body.get("data") is None
    assert 'Cannot spread fragment "' in body["errors"][0]["message"]


async def test_twenty_thousand_aliases_are_refused_as_too_large(client: httpx.AsyncClient) -> None:
    response = await post(client, aliases(20_000))
    assert response.status_code == 422
    assert response.json() == {"errors": [{"message": QUERY_TOO_LARGE}]}


async def test_aliases_within_the_size_limit_are_refused_by_complexity(
    graphql: RunGraphQL,
) -> None:
    document = aliases(500)
    assert len(document) <= MAX_QUERY_SIZE
    body = await graphql(document)
    assert body.get("data") is None
    assert body["errors"][0]["message"] == (
        f"Query has complexity of 500, which exceeds max complexity of {DEFAULT_MAX_COMPLEXITY}"
    )


async def test_five_thousand_health_fields_are_refused_even_for_an_administrator(
    client: httpx.AsyncClient, graphql: RunGraphQL, root: Account, services: Services
) -> None:
    await services.destinations.create_instance_destination(
        Actor(root.user), destination_url="https://siem.example.com/i"
    )
    huge = await post(client, instance_health(5_000), root)
    assert huge.status_code == 422
    assert huge.json()["errors"][0]["message"] == QUERY_TOO_LARGE

    many = await graphql(instance_health(400), as_=root)
    assert many.get("data") is None
    message = many["errors"][0]["message"]
    assert message.endswith(f"which exceeds max complexity of {ADMIN_MAX_COMPLEXITY}"), message

    allowed = await graphql(instance_health(3), as_=root)
    assert "errors" not in allowed, allowed
    (node,) = allowed["data"]["instanceExternalAuditEventDestinations"]["nodes"]
    assert set(node) == {"h0", "h1", "h2"}


async def test_one_operation_holds_a_bounded_number_of_connections(
    graphql: RunGraphQL, root: Account, services: Services, store: Store
) -> None:
    for n in range(5):
        await services.destinations.create_instance_destination(
            Actor(root.user), destination_url=f"https://siem.example.com/{n}"
        )
    held = peak = 0

    def checkout(*_args: object) -> None:
        nonlocal held, peak
        held += 1
        peak = max(peak, held)

    def checkin(*_args: object) -> None:
        nonlocal held
        held -= 1

    event.listen(store.engine.sync_engine.pool, "checkout", checkout)
    event.listen(store.engine.sync_engine.pool, "checkin", checkin)
    try:
        body = await graphql(instance_health(50), as_=root)  # 5 destinations, 50 health reads each
    finally:
        event.remove(store.engine.sync_engine.pool, "checkout", checkout)
        event.remove(store.engine.sync_engine.pool, "checkin", checkin)
    assert "errors" not in body, body
    assert len(body["data"]["instanceExternalAuditEventDestinations"]["nodes"]) == 5
    assert 1 <= peak <= READS_PER_REQUEST
    async with store.read() as conn:  # the pool is whole again
        assert (await conn.execute(sa.text("SELECT 1"))).scalar_one() == 1


async def test_a_ten_megabyte_string_literal_is_refused_anonymously(
    client: httpx.AsyncClient,
) -> None:
    response = await post(client, string_literal(10_000_000))
    assert response.status_code == 422
    assert response.json() == {"errors": [{"message": QUERY_TOO_LARGE}]}


async def test_the_standard_introspection_query_passes_anonymously(
    client: httpx.AsyncClient,
) -> None:
    for query in (
        get_introspection_query(),
        full_introspection_query(),
    ):
        response = await client.post(
            ENDPOINT, json={"query": query, "operationName": "IntrospectionQuery"}
        )
        assert response.status_code == 200
        assert "errors" not in response.json(), response.json()
