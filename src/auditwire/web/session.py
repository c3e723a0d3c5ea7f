"""Sessions in a signed cookie, CSRF tokens bound to them, and the signed-in actor."""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import quote

from fastapi import Request
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from auditwire.errors import AuditwireError, NotFound
from auditwire.services.container import Services
from auditwire.services.context import Actor

SESSION_COOKIE = "_auditwire_session"
SESSION_MAX_AGE = 7 * 24 * 3600  # seconds
CSRF_FIELD = "authenticity_token"
SIGN_IN_PATH = "/users/sign_in"
_USER_KEY = "user_id"
_CSRF_KEY = "csrf"
_FLASH_KEY = "flash"


class SessionCookies:
    """Starlette's SessionMiddleware, with `Secure` on the cookie whenever the request came by
    HTTPS (uvicorn sets the scheme from a trusted proxy's `X-Forwarded-Proto`)."""

    def __init__(self, app: ASGIApp, secret_key: str) -> None:
        options: dict[str, Any] = {
            "secret_key": secret_key,
            "session_cookie": SESSION_COOKIE,
            "max_age": SESSION_MAX_AGE,
            "same_site": "lax",
        }
        self._plain = SessionMiddleware(app, **options)
        self._secure = SessionMiddleware(app, https_only=True, **options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        chosen = self._secure if scope.get("scheme") in ("https", "wss") else self._plain
        await chosen(scope, receive, send)


class CsrfRejected(AuditwireError):
    message = "Can't verify CSRF token authenticity."


class SignInRequired(AuditwireError):
    """The page needs a signed-in user; the browser is sent to the sign-in page."""

    def __init__(self, back_to: str) -> None:
        super().__init__("Sign in required")
        self.location = f"{SIGN_IN_PATH}?redirect_to={quote(back_to, safe='/')}"


def services_of(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use."""
    token = request.session.get(_CSRF_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[_CSRF_KEY] = token
    return token


async def check_csrf(request: Request) -> dict[str, str]:
    """The posted form, once its CSRF token matches the session's (in constant time)."""
    form = await request.form()
    fields = {key: value for key, value in form.multi_items() if isinstance(value, str)}
    expected = request.session.get(_CSRF_KEY)
    given = fields.get(CSRF_FIELD, "")
    if not isinstance(expected, str) or not hmac.compare_digest(given, expected):
        raise CsrfRejected()
    return fields


async def posted_lists(request: Request) -> dict[str, list[str]]:
    """Every value of each field of the (already checked) posted form."""
    form = await request.form()
    lists: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            lists.setdefault(key, []).append(value)
    return lists


def start_session(request: Request, user_id: int) -> None:
    """A fresh session for a signed-in user: nothing from before survives (no fixation)."""
    request.session.clear()
    request.session[_USER_KEY] = user_id
    request.session[_CSRF_KEY] = secrets.token_urlsafe(32)


def end_session(request: Request) -> None:
    request.session.clear()


async def signed_in(request: Request) -> Actor | None:
    """The signed-in user as an actor, or None; a blocked or deleted user is signed out."""
    user_id = request.session.get(_USER_KEY)
    if not isinstance(user_id, int):
        return None
    try:
        user = await services_of(request).users.get(user_id)
    except NotFound:
        end_session(request)
        return None
    if not user.active:
        end_session(request)
        return None
    client = request.client.host if request.client else None
    return Actor(user=user, ip_address=client)


async def require_actor(request: Request) -> Actor:
    actor = await signed_in(request)
    if actor is None:
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(back)
    return actor


def safe_redirect(target: str | None) -> str:
    """A local path to go back to after signing in; anything else goes home."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


def flash(request: Request, errors: dict[str, list[str]], notice: str | None = None) -> None:
    """Messages for the next page shown, carried through a redirect."""
    request.session[_FLASH_KEY] = {"errors": errors, "notice": notice}


def take_flash(request: Request) -> tuple[dict[str, list[str]], str | None]:
    found = request.session.pop(_FLASH_KEY, None)
    if not isinstance(found, dict):
        return {}, None
    return dict(found.get("errors") or {}), found.get("notice")
