"""`/projects`: projects inside groups."""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict

from auditwire.api.auth import current_actor, services
from auditwire.api.rest.pagination import PageParams, page_params, page_response
from auditwire.api.rest.params import DbId, parse, ref, request_params
from auditwire.api.rest.shapes import base_url, json_response, project_json
from auditwire.domain.namespaces import Project
from auditwire.errors import InvalidInput
from auditwire.services.container import Services
from auditwire.services.context import Actor

router = APIRouter()

_NOT_PATH_CHARS = re.compile(r"[^a-z0-9_.-]+")


class CreateProject(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str | None = None
    path: str | None = None
    namespace_id: DbId | str | None = None
    description: str = ""


def path_from_name(name: str) -> str:
    """GitLab derives a missing path from the name: lower case, other characters as `-`."""
    return _NOT_PATH_CHARS.sub("-", name.strip().lower()).strip("-.")


async def projects_response(
    request: Request,
    svc: Services,
    paging: PageParams,
    projects: list[Project],
    total: int,
) -> Response:
    groups = await svc.namespaces.namespaces_of(projects)
    base = base_url(request)
    items = [project_json(p, groups.get(p.namespace_id), base) for p in projects]
    return page_response(request, paging, items, total)


@router.get("/projects")
async def list_projects(
    request: Request,
    search: str | None = None,
    paging: PageParams = Depends(page_params),
    actor: Actor = Depends(current_actor),
    svc: Services = Depends(services),
) -> Response:
    projects, total = await svc.namespaces.list_projects(
        actor, search=search, offset=paging.offset, limit=paging.per_page
    )
    return await projects_response(request, svc, paging, projects, total)


@router.post("/projects", status_code=201)
async def create_project(
    request: Request, actor: Actor = Depends(current_actor), svc: Services = Depends(services)
) -> Response:
    actor.require_write()
    body = parse(CreateProject, await request_params(request))
    if not body.name and not body.path:
        raise InvalidInput("name, path are missing, at least one parameter must be provided")
    if body.namespace_id in (None, ""):
        raise InvalidInput("namespace_id is missing", "namespace_id")
    assert body.namespace_id is not None
    path = body.path or path_from_name(body.name or "")
    project = await svc.namespaces.create_project(
        actor,
        namespace_ref=ref(str(body.namespace_id)),
        path=path,
        name=body.name or path,
        description=body.description,
    )
    groups = await svc.namespaces.namespaces_of([project])
    data = project_json(project, groups.get(project.namespace_id), base_url(request))
    return json_response(data, 201)


@router.get("/projects/{project_id}")
async def get_project(
    request: Request,
    project_id: str,
    actor: Actor = Depends(current_actor),
    svc: Services = Depends(services),
) -> Response:
    project, _level = await svc.namespaces.project(actor, ref(project_id))
    groups = await svc.namespaces.namespaces_of([project])
    return json_response(project_json(project, groups.get(project.namespace_id), base_url(request)))


@router.delete("/projects/{project_id}", status_code=202)
async def delete_project(
    project_id: str, actor: Actor = Depends(current_actor), svc: Services = Depends(services)
) -> Response:
    await svc.namespaces.delete_project(actor, ref(project_id))
    return json_response({"message": "202 Accepted"}, 202)
