"""`/namespaces/:id`: a group as a namespace, and its plan (administrators)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict

from auditwire.api.auth import current_actor, services
from auditwire.api.rest.params import parse, ref, request_params
from auditwire.api.rest.shapes import base_url, json_response, namespace_json
from auditwire.errors import NotFound
from auditwire.services.container import Services
from auditwire.services.context import Actor

router = APIRouter()

NAMESPACE_NOT_FOUND = "404 Namespace Not Found"


class UpdateNamespace(BaseModel):
    model_config = ConfigDict(extra="ignore")

    plan: str


@router.get("/namespaces/{namespace_id}")
async def get_namespace(
    request: Request,
    namespace_id: str,
    actor: Actor = Depends(current_actor),
    svc: Services = Depends(services),
) -> Response:
    try:
        group, _level = await svc.namespaces.group(actor, ref(namespace_id))
    except NotFound:
        raise NotFound(NAMESPACE_NOT_FOUND) from None
    plan = await svc.namespaces.root_plan(group)
    return json_response(namespace_json(group, base_url(request), plan))


@router.put("/namespaces/{namespace_id}")
async def update_namespace(
    request: Request,
    namespace_id: str,
    actor: Actor = Depends(current_actor),
    svc: Services = Depends(services),
) -> Response:
    actor.require_admin()
    actor.require_write()
    body = parse(UpdateNamespace, await request_params(request))
    group = await svc.namespaces.set_plan(actor, ref(namespace_id), body.plan)
    return json_response(namespace_json(group, base_url(request), group.plan))
