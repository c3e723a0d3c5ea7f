"""`/groups`: groups and subgroups, their subgroups and projects."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict

from auditwire.api.auth import current_actor, services
from auditwire.api.rest.pagination import PageParams, page_params, page_response
from auditwire.api.rest.params import DbId, parse, ref, request_params
from auditwire.api.rest.projects import projects_response
from auditwire.api.rest.shapes import base_url, group_json, json_response
from auditwire.services.container import Services
from auditwire.services.context import Actor

router = APIRouter()


class CreateGroup(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str
    path: str
    parent_id: DbId | str | None = None
    description: str = ""


class UpdateGroup(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str | None = None
    description: str | None = None


@router.get("/groups")
async def list_groups(
    request: Request,
    search: str | None = None,
    top_level_only: bool = False,
    paging: PageParams = Depends(page_params),
    actor: Actor = Depends(current_actor),
    svc: Services = Depends(services),
) -> Response:
    groups, total = await svc.namespaces.list_groups(
        actor,
        top_level_only=top_level_only,
        search=search,
        offset=paging.offset,
        limit=paging.per_page,
    )
    base = base_url(request)
    return page_response(request, paging, [group_json(g, base) for g in groups], total)


@router.post("/groups", status_code=201)
async def create_group(
    request: Request, actor: Actor = Depends(current_actor), svc: Services = Depends(services)
) -> Response:
    actor.require_write()
    body = parse(CreateGroup, await request_params(request))
    parent = body.parent_id if body.parent_id not in (None, "") else None
    group = await svc.namespaces.create_group(
        actor, path=body.path, name=body.name, parent_ref=parent, description=body.description
    )
    return json_response(group_json(group, base_url(request)), 201)


@router.get("/groups/{group_id}")
async def get_group(
    request: Request,
    group_id: str,
    actor: Actor = Depends(current_actor),
    svc: Services = Depends(services),
) -> Response:
    group, _level = await svc.namespaces.group(actor, ref(group_id))
    return json_response(group_json(group, base_url(request)))


@router.put("/groups/{group_id}")
async def update_group(
    request: Request,
    group_id: str,
    actor: Actor = Depends(current_actor),
    svc: Services = Depends(services),
) -> Response:
    actor.require_write()
    body = parse(UpdateGroup, await request_params(request))
    group = await svc.namespaces.update_group(
        actor, ref(group_id), name=body.name, description=body.description
    )
    return json_response(group_json(group, base_url(request)))


@router.delete("/groups/{group_id}", status_code=202)
async def delete_group(
    group_id: str, actor: Actor = Depends(current_actor), svc: Services = Depends(services)
) -> Response:
    await svc.namespaces.delete_group(actor, ref(group_id))
    return json_response({"message": "202 Accepted"}, 202)


@router.get("/groups/{group_id}/subgroups")
async def list_subgroups(
    request: Request,
    group_id: str,
    search: str | None = None,
    paging: PageParams = Depends(page_params),
    actor: Actor = Depends(current_actor),
    svc: Services = Depends(services),
) -> Response:
    parent, _level = await svc.namespaces.group(actor, ref(group_id))
    groups, total = await svc.namespaces.list_groups(
        actor, parent=parent, search=search, offset=paging.offset, limit=paging.per_page
    )
    base = base_url(request)
    return page_response(request, paging, [group_json(g, base) for g in groups], total)


@router.get("/groups/{group_id}/projects")
async def list_group_projects(
    request: Request,
    group_id: str,
    search: str | None = None,
    paging: PageParams = Depends(page_params),
    actor: Actor = Depends(current_actor),
    svc: Services = Depends(services),
) -> Response:
    group, _level = await svc.namespaces.group(actor, ref(group_id))
    projects, total = await svc.namespaces.list_projects(
        actor, under=group, search=search, offset=paging.offset, limit=paging.per_page
    )
    return await projects_response(request, svc, paging, projects, total)
