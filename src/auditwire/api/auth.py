"""Who is calling: a personal access token in `PRIVATE-TOKEN` or `Authorization: Bearer`."""

from __future__ import annotations

from fastapi import Request

from auditwire.errors import Unauthenticated
from auditwire.services.container import Services
from auditwire.services.context import Actor


def services_of(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


async def services(request: Request) -> Services:
    """The services, as a dependency: `async` so that FastAPI resolves it without a thread hop."""
    return services_of(request)


def token_from(request: Request) -> str | None:
    token = request.headers.get("private-token")
    if token:
        return token.strip()
    authorization = request.headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


async def optional_actor(request: Request) -> Actor | None:
    """The caller, or None for an anonymous request; a bad token is an error, not anonymity."""
    token = token_from(request)
    if token is None:
        return None
    user, pat = await services_of(request).users.authenticate(token)
    client = request.client.host if request.client else None
    return Actor(user=user, token=pat, ip_address=client)


async def current_actor(request: Request) -> Actor:
    actor = await optional_actor(request)
    if actor is None:
        raise Unauthenticated("401 Unauthorized")
    return actor
