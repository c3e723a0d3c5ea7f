"""`/user`, `/users` and personal access tokens."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from auditwire.api.auth import current_actor, services
from auditwire.api.rest.pagination import PageParams, page_params, page_response
from auditwire.api.rest.params import numeric_id, parse, request_params
from auditwire.api.rest.shapes import base_url, json_response, user_json
from auditwire.domain.events import format_timestamp
from auditwire.domain.tokens import parse_scopes
from auditwire.errors import NotFound
from auditwire.services.container import Services
from auditwire.services.context import Actor
from auditwire.services.users import NewToken

router = APIRouter()


class CreateUser(BaseModel):
    model_config = ConfigDict(extra="ignore")

    username: str
    email: str
    name: str | None = None
    password: str | None = None
    admin: bool = False


class UpdateUser(BaseModel):
    model_config = ConfigDict(extra="ignore")

    password: str | None = None


class CreateToken(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1)
    scopes: list[str] | str
    expires_at: date | None = None


def token_json(new: NewToken) -> dict[str, Any]:
    token = new.token
    return {
        "id": token.id,
        "name": token.name,
        "revoked": token.revoked,
        "created_at": format_timestamp(token.created_at),
        "scopes": [str(s) for s in token.scopes],
        "user_id": token.user_id,
        "active": True,
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        "token": new.value,
    }


@router.get("/user")
async def get_current_user(request: Request, actor: Actor = Depends(current_actor)) -> Response:
    return json_response(user_json(actor.user, base_url(request), full=True))


@router.get("/users")
async def list_users(
    request: Request,
    username: str | None = None,
    paging: PageParams = Depends(page_params),
    actor: Actor = Depends(current_actor),
    svc: Services = Depends(services),
) -> Response:
    """Administrators only: the list would otherwise let anyone enumerate every account."""
    actor.require_admin()
    users, total = await svc.users.list(
        username=username, offset=paging.offset, limit=paging.per_page
    )
    base = base_url(request)
    return page_response(request, paging, [user_json(u, base, full=True) for u in users], total)


@router.get("/users/{user_id}")
async def get_user(
    request: Request,
    user_id: str,
    actor: Actor = Depends(current_actor),
    svc: Services = Depends(services),
) -> Response:
    key = numeric_id(user_id)
    if key is None:
        raise NotFound("404 User Not Found")
    user = await svc.users.get(key)
    return json_response(user_json(user, base_url(request), full=actor.is_admin))


@router.post("/users", status_code=201)
async def create_user(
    request: Request, actor: Actor = Depends(current_actor), svc: Services = Depends(services)
) -> Response:
    actor.require_admin()
    body = parse(CreateUser, await request_params(request))
    user = await svc.users.create_user(
        actor,
        username=body.username,
        email=body.email,
        name=body.name,
        is_admin=body.admin,
        password=body.password,
    )
    return json_response(user_json(user, base_url(request), full=True), 201)


@router.put("/users/{user_id}")
async def update_user(
    request: Request,
    user_id: str,
    actor: Actor = Depends(current_actor),
    svc: Services = Depends(services),
) -> Response:
    """Administrators only; of a user's attributes, auditwire changes the password."""
    actor.require_admin()
    key = numeric_id(user_id)
    if key is None:
        raise NotFound("404 User Not Found")
    body = parse(UpdateUser, await request_params(request))
    user = (
        await svc.users.set_password(actor, key, body.password)
        if body.password is not None
        else await svc.users.get(key)
    )
    return json_response(user_json(user, base_url(request), full=True))


@router.post("/users/{user_id}/personal_access_tokens", status_code=201)
async def create_personal_access_token(
    request: Request,
    user_id: str,
    actor: Actor = Depends(current_actor),
    svc: Services = Depends(services),
) -> Response:
    actor.require_admin()
    key = numeric_id(user_id)
    if key is None:
        raise NotFound("404 User Not Found")
    body = parse(CreateToken, await request_params(request))
    token = await svc.users.create_token(
        actor, key, name=body.name, scopes=parse_scopes(body.scopes), expires_at=body.expires_at
    )
    return json_response(token_json(token), 201)
