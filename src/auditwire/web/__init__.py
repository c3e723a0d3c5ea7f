"""Pages for people: the GraphQL explorer and the static files it loads."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"
EXPLORER_PATH = "/-/graphql-explorer"
STATIC_PATH = "/-/static"

router = APIRouter(include_in_schema=False)


@router.get(EXPLORER_PATH)
async def graphql_explorer() -> FileResponse:
    """GraphiQL, served from auditwire itself so that it works without internet access."""
    return FileResponse(STATIC_DIR / "explorer.html", media_type="text/html")


def install_pages(app: FastAPI) -> None:
    app.include_router(router)
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="static")
