"""Audit events: GitLab's instance, group and project lists, and ingestion from other apps."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response

from auditwire.api.auth import current_actor, services
from auditwire.api.rest.event_input import body_schema, parse_events
from auditwire.api.rest.pagination import PageParams, page_params, page_response
from auditwire.api.rest.params import MAX_ID, SOURCE_PATH, SourceKind, numeric_id, ref
from auditwire.api.rest.shapes import json_response
from auditwire.api.rest.token_cache import cached_actor
from auditwire.domain import permissions
from auditwire.domain.events import AuditEvent, EntityType
from auditwire.errors import InvalidInput, NotFound
from auditwire.services.container import Services
from auditwire.services.context import Actor
from auditwire.services.events import EventQuery
from auditwire.services.ingest import IDEMPOTENCY_KEY_MAX_LENGTH

router = APIRouter()
INGEST_PATH = "/audit_events"  # POST: a plain route, added by the package (see __init__)

EVENT_NOT_FOUND = "404 Audit Event Not Found"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def parse_time(value: str | None, name: str) -> datetime | None:
    """An ISO 8601 date or time; a time without zone is UTC, as GitLab reads it."""
    if value is None or value == "":
        return None
    text = value.strip()
    if "T" in text:  # an unencoded `+01:00` arrives as a space
        text = text.replace(" ", "+")
    try:
        moment = datetime.fromisoformat(text)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidInput(f"{name} is invalid", name) from None


def parse_entity_type(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    try:
        return EntityType(value).value
    except ValueError:
        raise InvalidInput("entity_type does not have a valid value", "entity_type") from None


def event_id_of(raw: str) -> int:
    event_id = numeric_id(raw)
    if event_id is None:
        raise NotFound(EVENT_NOT_FOUND)
    return event_id


async def _listing(
    request: Request,
    svc: Services,
    query: EventQuery,
    paging: PageParams,
) -> Response:
    events, total = await svc.events.list(query, offset=paging.offset, limit=paging.per_page)
    return page_response(request, paging, [e.rest_item() for e in events], total)


def _scoped(
    entity_type: EntityType,
    entity_id: int,
    sees_all: bool,
    actor: Actor,
    created_after: str | None,
    created_before: str | None,
) -> EventQuery:
    """A group's or project's events; those of others only for roles that see all."""
    return EventQuery(
        entity_type=entity_type.value,
        entity_id=entity_id,
        author_id=None if sees_all else actor.user.id,
        created_after=parse_time(created_after, "created_after"),
        created_before=parse_time(created_before, "created_before"),
    )


def _visible(event: AuditEvent | None, query: EventQuery) -> AuditEvent:
    if (
        event is None
        or event.entity_type != query.entity_type
        or event.entity_id != query.entity_id
        or (query.author_id is not None and event.author_id != query.author_id)
    ):
        raise NotFound(EVENT_NOT_FOUND)
    return event


# Instance -------------------------------------------------------------------------------------


@router.get("/audit_events")
async def list_instance_events(
    request: Request,
    entity_type: str | None = None,
    entity_id: int | None = Query(None, ge=0, le=MAX_ID),
    created_after: str | None = None,
    created_before: str | None = None,
    paging: PageParams = Depends(page_params),
    actor: Actor = Depends(current_actor),
    svc: Services = Depends(services),
) -> Response:
    actor.require_admin()
    query = EventQuery(
        entity_type=parse_entity_type(entity_type),
        entity_id=entity_id,
        created_after=parse_time(created_after, "created_after"),
        created_before=parse_time(created_before, "created_before"),
    )
    return await _listing(request, svc, query, paging)


@router.get("/audit_events/{event_id}")
async def get_instance_event(
    event_id: str, actor: Actor = Depends(current_actor), svc: Services = Depends(services)
) -> Response:
    actor.require_admin()
    event = await svc.events.get(event_id_of(event_id))
    if event is None:
        raise NotFound(EVENT_NOT_FOUND)
    return json_response(event.rest_item())


async def ingest_events(request: Request) -> Response:
    """Take one event or a list of up to 1,000; answer with them once they are committed.

    A plain Starlette route, not a FastAPI one: this is the hot path of ingestion, and
    FastAPI's dependency and body machinery costs more per request than the work itself.
    """
    actor = await cached_actor(request)
    actor.require_admin()
    actor.require_write()
    items, single = parse_events(await request.body())
    svc: Services = request.app.state.services
    events = await svc.ingest.ingest(
        actor, items, idempotency_key=request.headers.get(IDEMPOTENCY_HEADER), single=single
    )
    body: Any = [e.rest_item() for e in events]
    return json_response(body[0] if single and len(body) == 1 else body, 201)


def describe_ingestion(openapi: dict[str, Any], path: str) -> None:
    """Add `ingest_events`, which FastAPI does not describe (a plain route), to the OpenAPI
    document at `path`."""
    body, components = body_schema()
    openapi.setdefault("components", {}).setdefault("schemas", {}).update(components)
    error = {"description": "A JSON object whose `error` or `message` says what is wrong"}
    openapi["paths"].setdefault(path, {}).update(
        post={
            "summary": "Record audit events",
            "description": (
                "One event, or a list of 1 to 1,000, recorded in one transaction and streamed "
                "to the destinations that match them. Administrators only, with the `api` "
                "scope. The answer comes once the events are committed."
            ),
            "operationId": "ingest_events",
            "parameters": [
                {
                    "name": IDEMPOTENCY_HEADER,
                    "in": "header",
                    "required": False,
                    "description": "A retried request with the same key gets the same events "
                    "back instead of new ones",
                    "schema": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH,
                    },
                }
            ],
            "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
            "responses": {
                "201": {
                    "description": "The stored events, as `GET /audit_events/:id` shows them: "
                    "an object for an object, a list for a list"
                },
                "400": error,
                "401": error,
                "403": error,
                "422": {
                    "description": "The `Idempotency-Key` was sent before with other events: "
                    "problem details (`application/problem+json`)"
                },
            },
        }
    )


# Groups and projects --------------------------------------------------------------------------


async def _scoped_query(
    svc: Services,
    actor: Actor,
    kind: SourceKind,
    source_id: str,
    after: str | None,
    before: str | None,
) -> EventQuery:
    """A group's or project's events: all of them for owners (maintainers of a project),
    otherwise only the caller's own."""
    if kind == "groups":
        group, level = await svc.namespaces.group(actor, ref(source_id))
        sees_all = permissions.can_read_all_group_events(actor.user, level)
        return _scoped(EntityType.GROUP, group.id, sees_all, actor, after, before)
    project, level = await svc.namespaces.project(actor, ref(source_id))
    sees_all = permissions.can_read_all_project_events(actor.user, level)
    return _scoped(EntityType.PROJECT, project.id, sees_all, actor, after, before)


@router.get(SOURCE_PATH + "/audit_events")
async def list_scoped_events(
    request: Request,
    kind: SourceKind,
    source_id: str,
    created_after: str | None = None,
    created_before: str | None = None,
    paging: PageParams = Depends(page_params),
    actor: Actor = Depends(current_actor),
    svc: Services = Depends(services),
) -> Response:
    query = await _scoped_query(svc, actor, kind, source_id, created_after, created_before)
    return await _listing(request, svc, query, paging)


@router.get(SOURCE_PATH + "/audit_events/{event_id}")
async def get_scoped_event(
    kind: SourceKind,
    source_id: str,
    event_id: str,
    actor: Actor = Depends(current_actor),
    svc: Services = Depends(services),
) -> Response:
    query = await _scoped_query(svc, actor, kind, source_id, None, None)
    event = _visible(await svc.events.get(event_id_of(event_id)), query)
    return json_response(event.rest_item())
