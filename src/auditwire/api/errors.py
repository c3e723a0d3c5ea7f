"""The one table that maps auditwire's errors to HTTP responses, GitLab-style."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from auditwire.errors import (
    AuditwireError,
    Conflict,
    Forbidden,
    IdempotencyKeyReused,
    InvalidInput,
    NotFound,
    NotSaved,
    StorageError,
    Unauthenticated,
)

logger = logging.getLogger(__name__)

STATUS_BY_ERROR: dict[type[AuditwireError], int] = {
    InvalidInput: 400,
    NotSaved: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    IdempotencyKeyReused: 422,
    StorageError: 503,
}
# Where the rule that an Idempotency-Key names one request body is written down.
IDEMPOTENCY_PROBLEM_TYPE = (
    "https://datatracker.ietf.org/doc/draft-ietf-httpapi-idempotency-key-header/"
)


def status_for(error: AuditwireError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AuditwireError)
    async def _domain_error(_request: Request, error: AuditwireError) -> JSONResponse:
        status = status_for(error)
        if status >= 500:
            logger.error("request failed: %s", error.message)
        if isinstance(error, InvalidInput):
            return JSONResponse({"error": error.message}, status_code=status)
        if isinstance(error, IdempotencyKeyReused):  # the draft's problem details (RFC 9457)
            problem = {
                "type": IDEMPOTENCY_PROBLEM_TYPE,
                "title": error.title,
                "status": status,
                "detail": error.message,
            }
            return JSONResponse(problem, status_code=status, media_type="application/problem+json")
        if isinstance(error, NotSaved) and error.errors:
            return JSONResponse({"message": error.errors}, status_code=status)
        return JSONResponse({"message": error.message}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": describe_validation(error)}, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        message = error.detail if isinstance(error.detail, str) else str(error.detail)
        if error.status_code == 404 and message == "Not Found":
            message = "404 Not Found"
        return JSONResponse(
            {"message": message}, status_code=error.status_code, headers=error.headers
        )


def describe_validation(error: RequestValidationError) -> str:
    """GitLab's wording: `name is missing`, `per_page is invalid`, naming each field."""
    parts = []
    for item in error.errors():
        location = [str(p) for p in item.get("loc", ()) if p not in ("body", "query", "path")]
        field = ".".join(location) or "body"
        kind = "is missing" if item.get("type") == "missing" else f"is invalid ({item.get('msg')})"
        parts.append(f"{field} {kind}")
    return ", ".join(parts)
