"""Pages for people: sign-in, namespaces, audit events and streams; the GraphQL explorer, the
REST API's page, and the static files they load."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"
EXPLORER_PATH = "/-/graphql-explorer"
API_DOCS_PATH = "/-/api-docs"
OPENAPI_PATH = "/-/openapi.json"
STATIC_PATH = "/-/static"

router = APIRouter(include_in_schema=False)


@router.get(EXPLORER_PATH)
async def graphql_explorer() -> FileResponse:
    """GraphiQL, served from auditwire itself so that it works without internet access."""
    return FileResponse(STATIC_DIR / "explorer.html", media_type="text/html")


@router.get(API_DOCS_PATH)
async def api_docs() -> HTMLResponse:
    """Swagger UI on the OpenAPI document, served from auditwire itself (no CDN, no validator
    service), so that it works without internet access."""
    return get_swagger_ui_html(
        openapi_url=OPENAPI_PATH,
        title="auditwire REST API",
        swagger_js_url=f"{STATIC_PATH}/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url=f"{STATIC_PATH}/swagger-ui/swagger-ui.css",
        swagger_favicon_url="data:,",
        swagger_ui_parameters={"validatorUrl": None},
    )


def install_pages(app: FastAPI, session_secret: str) -> None:
    """Add the pages, their error pages and the session cookie to the app. The catch-all
    for `/<namespace>/<project>` and `/<username>` goes last, after every other route."""
    from auditwire.web.pages import audit_events, auth, namespaces, stream_forms, streams
    from auditwire.web.render import install_page_errors
    from auditwire.web.session import SessionCookies

    app.include_router(router)
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="static")
    for pages in (auth, stream_forms, streams, audit_events, namespaces):
        app.include_router(pages.router)
    catch_all = APIRouter(include_in_schema=False)
    namespaces.install_catch_all(catch_all)
    app.include_router(catch_all)
    install_page_errors(app)
    app.add_middleware(SessionCookies, secret_key=session_secret)
