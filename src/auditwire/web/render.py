"""Rendering pages: one Jinja2 environment (autoescaped), the security headers, error pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from auditwire.domain.events import format_timestamp
from auditwire.errors import NotFound
from auditwire.services.context import Actor
from auditwire.web.session import CSRF_FIELD, CsrfRejected, SignInRequired, csrf_token

TEMPLATES_DIR = Path(__file__).parent / "templates"
# No inline script or style anywhere: every script and stylesheet is a file of our own.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

environment = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html"], default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters["timestamp"] = lambda value: format_timestamp(value) if value else ""


class PageNotFound(NotFound):
    """A page that does not exist, or that the viewer may not see: the same answer for both."""

    message = "Page not found"


def render(
    request: Request,
    template: str,
    actor: Actor | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page with the viewer, the CSRF token for its forms, and the security headers."""
    body = environment.get_template(template).render(
        request=request,
        viewer=actor.user if actor else None,
        csrf_field=CSRF_FIELD,
        csrf_token=csrf_token(request),
        **context,
    )
    return HTMLResponse(body, status_code=status_code, headers=PAGE_HEADERS)


def redirect(location: str) -> RedirectResponse:
    """After a form: see the page again with GET (303)."""
    return RedirectResponse(location, status_code=303)


def install_page_errors(app: FastAPI) -> None:
    """Errors of pages answer as pages; the API's errors keep their JSON (see api/errors)."""

    @app.exception_handler(SignInRequired)
    async def _sign_in(_request: Request, error: SignInRequired) -> Response:
        return RedirectResponse(error.location, status_code=303)

    @app.exception_handler(CsrfRejected)
    async def _csrf(request: Request, error: CsrfRejected) -> Response:
        return render(request, "error.html", None, 422, title="422", message=error.message)

    @app.exception_handler(PageNotFound)
    async def _not_found(request: Request, _error: PageNotFound) -> Response:
        message = "The page could not be found or you don't have permission to view it."
        return render(request, "error.html", None, 404, title="404", message=message)
