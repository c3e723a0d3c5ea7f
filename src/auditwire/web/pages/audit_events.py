"""The audit events page of a group and of the instance: the "Log" and "Streams" tabs, and
the log's CSV export."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from auditwire.errors import NotFound
from auditwire.services import event_scope
from auditwire.services.context import Actor
from auditwire.services.events import EventQuery
from auditwire.web.pages.audit_log import LogFilters, ScopeMaker, export_rows, log_page
from auditwire.web.pages.stream_queries import Owner, list_destinations
from auditwire.web.render import PageNotFound, render
from auditwire.web.session import require_actor, services_of, take_flash

router = APIRouter(include_in_schema=False)


async def _group_scope(request: Request, actor: Actor, full_path: str) -> ScopeMaker:
    svc = services_of(request)
    try:
        group, _ = await svc.namespaces.group(actor, full_path)
    except NotFound:
        raise PageNotFound() from None
    if group.full_path.lower() != full_path.lower():
        raise PageNotFound()

    async def scope(after: datetime | None, before: datetime | None) -> EventQuery:
        _, query = await event_scope.group_events(
            svc.namespaces, actor, group.id, created_after=after, created_before=before
        )
        return query

    return scope


def _instance_scope(actor: Actor) -> ScopeMaker:
    if not actor.is_admin:
        raise PageNotFound()

    async def scope(after: datetime | None, before: datetime | None) -> EventQuery:
        return event_scope.instance_events(actor, created_after=after, created_before=before)

    return scope


async def _page(request: Request, actor: Actor, owner: Owner, scope: ScopeMaker) -> Response:
    svc = services_of(request)
    filters = LogFilters.of(request)
    log = await log_page(svc, scope, filters)
    # The API decides who may manage the owner's destinations: null means not this viewer.
    streams = await list_destinations(svc, actor, owner)
    tab = (
        "streams" if streams is not None and request.query_params.get("tab") == "streams" else "log"
    )
    _, notice = take_flash(request)
    return render(
        request,
        "audit_events.html",
        actor,
        owner=owner,
        log=log,
        filters=filters,
        streams=streams,
        tab=tab,
        notice=notice,
        kinds=owner.kinds(),
    )


def _csv(request: Request, scope: ScopeMaker, name: str) -> Response:
    rows = export_rows(services_of(request), scope, LogFilters.of(request))
    return StreamingResponse(
        rows,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/groups/{full_path:path}/-/audit_events")
async def group_audit_events(request: Request, full_path: str) -> Response:
    actor = await require_actor(request)
    scope = await _group_scope(request, actor, full_path)
    return await _page(request, actor, Owner(full_path), scope)


@router.get("/groups/{full_path:path}/-/audit_events.csv")
async def group_audit_events_csv(request: Request, full_path: str) -> Response:
    actor = await require_actor(request)
    scope = await _group_scope(request, actor, full_path)
    return _csv(request, scope, f"audit-events-{full_path.replace('/', '-')}.csv")


@router.get("/admin/audit_logs")
async def instance_audit_events(request: Request) -> Response:
    actor = await require_actor(request)
    return await _page(request, actor, Owner(None), _instance_scope(actor))


@router.get("/admin/audit_logs.csv")
async def instance_audit_events_csv(request: Request) -> Response:
    actor = await require_actor(request)
    return _csv(request, _instance_scope(actor), "audit-events.csv")
