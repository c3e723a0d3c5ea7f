"""`/groups/:id/members` and `/projects/:id/members`: one implementation for both sources."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, BeforeValidator, ConfigDict

from auditwire.api.auth import current_actor, services
from auditwire.api.rest.pagination import PageParams, page_params, page_response
from auditwire.api.rest.params import (
    SOURCE_PATH,
    DbId,
    SourceKind,
    numeric_id,
    parse,
    ref,
    request_params,
)
from auditwire.api.rest.shapes import base_url, json_response, member_json
from auditwire.domain.namespaces import AccessLevel, Group, Project
from auditwire.errors import InvalidInput, NotFound
from auditwire.services.container import Services
from auditwire.services.context import Actor
from auditwire.services.namespaces import KEEP_EXPIRY

router = APIRouter()

MEMBERS = SOURCE_PATH + "/members"


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


# GitLab reads an empty `expires_at` as no date: given empty, it clears the expiry.
Expiry = Annotated[date | None, BeforeValidator(_blank_is_none)]


class AddMember(BaseModel):
    model_config = ConfigDict(extra="ignore")

    user_id: DbId | None = None
    username: str | None = None
    access_level: int | str
    expires_at: Expiry = None


class UpdateMember(BaseModel):
    model_config = ConfigDict(extra="ignore")

    access_level: int | str
    expires_at: Expiry = None


async def _source(svc: Services, actor: Actor, kind: SourceKind, source_id: str) -> Group | Project:
    if kind == "groups":
        group, _level = await svc.namespaces.group(actor, ref(source_id))
        return group
    project, _level = await svc.namespaces.project(actor, ref(source_id))
    return project


def _user_id(raw: str) -> int:
    user_id = numeric_id(raw)
    if user_id is None:
        raise NotFound("404 Member Not Found")
    return user_id


@router.get(MEMBERS)
async def list_members(
    request: Request,
    kind: SourceKind,
    source_id: str,
    paging: PageParams = Depends(page_params),
    actor: Actor = Depends(current_actor),
    svc: Services = Depends(services),
) -> Response:
    source = await _source(svc, actor, kind, source_id)
    members, total = await svc.namespaces.list_members(
        actor, source, offset=paging.offset, limit=paging.per_page
    )
    base = base_url(request)
    return page_response(request, paging, [member_json(m, base) for m in members], total)


@router.get(MEMBERS + "/all")
async def list_all_members(
    request: Request,
    kind: SourceKind,
    source_id: str,
    paging: PageParams = Depends(page_params),
    actor: Actor = Depends(current_actor),
    svc: Services = Depends(services),
) -> Response:
    """Members including those inherited from ancestor groups, each once at its highest level."""
    source = await _source(svc, actor, kind, source_id)
    members, total = await svc.namespaces.list_all_members(
        source, offset=paging.offset, limit=paging.per_page
    )
    base = base_url(request)
    return page_response(request, paging, [member_json(m, base) for m in members], total)


@router.get(MEMBERS + "/{user_id}")
async def get_member(
    request: Request,
    kind: SourceKind,
    source_id: str,
    user_id: str,
    actor: Actor = Depends(current_actor),
    svc: Services = Depends(services),
) -> Response:
    source = await _source(svc, actor, kind, source_id)
    member = await svc.namespaces.get_member(source, _user_id(user_id))
    return json_response(member_json(member, base_url(request)))


@router.post(MEMBERS, status_code=201)
async def add_member(
    request: Request,
    kind: SourceKind,
    source_id: str,
    actor: Actor = Depends(current_actor),
    svc: Services = Depends(services),
) -> Response:
    actor.require_write()
    source = await _source(svc, actor, kind, source_id)
    body = parse(AddMember, await request_params(request))
    if body.user_id is None:
        if not body.username:
            raise InvalidInput(
                "user_id, username are missing, exactly one parameter must be provided"
            )
        user_id = (await svc.users.get_by_username(body.username)).id
    else:
        user_id = body.user_id
    member = await svc.namespaces.add_member(
        actor,
        source,
        user_id=user_id,
        access_level=AccessLevel.parse(body.access_level),
        expires_at=body.expires_at,
    )
    return json_response(member_json(member, base_url(request)), 201)


@router.put(MEMBERS + "/{user_id}")
async def update_member(
    request: Request,
    kind: SourceKind,
    source_id: str,
    user_id: str,
    actor: Actor = Depends(current_actor),
    svc: Services = Depends(services),
) -> Response:
    actor.require_write()
    source = await _source(svc, actor, kind, source_id)
    body = parse(UpdateMember, await request_params(request))
    # Absent, the expiry stays (GitLab updates only the parameters given); empty, it goes.
    given = "expires_at" in body.model_fields_set
    member = await svc.namespaces.update_member(
        actor,
        source,
        user_id=_user_id(user_id),
        access_level=AccessLevel.parse(body.access_level),
        expires_at=body.expires_at if given else KEEP_EXPIRY,
    )
    return json_response(member_json(member, base_url(request)))


@router.delete(MEMBERS + "/{user_id}", status_code=204)
async def remove_member(
    kind: SourceKind,
    source_id: str,
    user_id: str,
    actor: Actor = Depends(current_actor),
    svc: Services = Depends(services),
) -> Response:
    actor.require_write()
    source = await _source(svc, actor, kind, source_id)
    await svc.namespaces.remove_member(actor, source, _user_id(user_id))
    return Response(status_code=204)
