"""GitLab's GraphQL API at `/api/graphql` (GET for queries)."""

from __future__ import annotations

from fastapi import APIRouter
from strawberry.fastapi import GraphQLRouter

from auditwire.api.graphql.context import get_context
from auditwire.api.graphql.schema import schema

ENDPOINT = "/api/graphql"


def graphql_router() -> APIRouter:
    """The GraphQL endpoint, ready for `app.include_router`; the explorer is in `web`."""
    router = APIRouter()
    endpoint: GraphQLRouter[object, None] = GraphQLRouter(
        schema,
        graphql_ide=None,
        allow_queries_via_get=True,
        context_getter=get_context,
    )
    router.include_router(endpoint, prefix=ENDPOINT)
    return router
