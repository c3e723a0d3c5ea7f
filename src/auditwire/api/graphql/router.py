"""GitLab's GraphQL API at `/api/graphql` (GET for queries), explorer at `/-/graphql-explorer`."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from strawberry.fastapi import GraphQLRouter
from strawberry.http.ides import get_graphql_ide_html

from auditwire.api.graphql.context import get_context
from auditwire.api.graphql.schema import schema

ENDPOINT = "/api/graphql"
EXPLORER = "/-/graphql-explorer"
# GraphiQL posts to the page's own URL; the explorer lives elsewhere, so point it at the API.
_PAGE_URL = 'window.location.href.split("?")[0]'
_API_URL = f'new URL("{ENDPOINT}", window.location.href).href'


def explorer_html() -> str:
    html = get_graphql_ide_html(graphql_ide="graphiql")
    if _PAGE_URL not in html:
        raise RuntimeError("the GraphiQL page no longer has the expected endpoint line")
    return html.replace(_PAGE_URL, _API_URL)


def graphql_router() -> APIRouter:
    """The GraphQL endpoint and its explorer, ready for `app.include_router`."""
    router = APIRouter()
    endpoint: GraphQLRouter[object, None] = GraphQLRouter(
        schema,
        graphql_ide=None,
        allow_queries_via_get=True,
        context_getter=get_context,
    )
    router.include_router(endpoint, prefix=ENDPOINT)
    page = explorer_html()

    @router.get(EXPLORER, include_in_schema=False)
    async def explorer() -> HTMLResponse:
        return HTMLResponse(page)

    return router
