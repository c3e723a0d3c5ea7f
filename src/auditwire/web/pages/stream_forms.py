"""Adding a streaming destination: the HTTP endpoint, Google Cloud Logging, AWS S3, Splunk HTTP
Event Collector and Datadog forms."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from auditwire.services.container import Services
from auditwire.services.context import Actor
from auditwire.web import gql
from auditwire.web.pages.stream_config import FORMATS, LIMITS, fields_of, layout_of
from auditwire.web.pages.stream_queries import (
    Kind,
    Owner,
    errors_by_field,
    find_destination,
    list_destinations,
    numeric_id,
    snake_case,
)
from auditwire.web.pages.streams import (
    Call,
    event_type_calls,
    input_type_of,
    mutation_document,
    namespace_filter_calls,
)
from auditwire.web.render import PageNotFound, redirect, render
from auditwire.web.session import check_csrf, flash, posted_lists, require_actor, services_of

MAX_HEADERS = 20  # custom HTTP headers per destination, GitLab's limit
HEADER_ROWS = 3  # blank header rows the form shows without script
GROUP_NEW = "/groups/{full_path:path}/-/audit_events/streams/new"
ADMIN_NEW = "/admin/audit_logs/streams/new"

router = APIRouter(include_in_schema=False)


async def new_page(
    request: Request,
    owner: Owner,
    values: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    status_code: int = 200,
) -> Response:
    actor = await require_actor(request)
    if await list_destinations(services_of(request), actor, owner) is None:
        raise PageNotFound()
    chosen = owner.kind(request.query_params.get("kind", "") or (values or {}).get("kind", "http"))
    if chosen is None:
        raise PageNotFound()
    return render(
        request,
        "destination_new.html",
        actor,
        status_code,
        owner=owner,
        kinds=owner.kinds(),
        kind=chosen,
        values=values or {},
        errors=errors or {},
        header_rows=max(HEADER_ROWS, len((values or {}).get("header_key", []))),
        max_headers=MAX_HEADERS,
        formats=FORMATS,
        limits=LIMITS,
    )


async def create(request: Request, owner: Owner) -> Response:
    actor = await require_actor(request)
    form = await check_csrf(request)
    lists = await posted_lists(request)
    kind = owner.kind(form.get("kind", ""))
    if kind is None:
        raise PageNotFound()
    values: dict[str, Any] = {**form, **{k: v for k, v in lists.items() if k.startswith("header_")}}
    if kind.secret:
        values.pop(snake_case(kind.secret), None)  # a secret is never shown back, even refused
    fields: dict[str, Any] = {"name": form.get("name") or None}
    if not owner.instance:
        fields["groupPath"] = owner.group_path
    mutation, payload = kind.create, kind.payload
    layout = layout_of(form) if kind.layout else {}
    if kind.category is not None:
        fields.update(category=kind.category, **fields_of(kind, form))
    elif layout:  # a batched HTTP destination: GitLab's HTTP mutations know no format
        mutation, payload = f"{owner.streaming}Create", "externalAuditEventDestination"
        config = {"url": form.get("destination_url", ""), **layout}
        fields.update(category=kind.key, config=config)
    else:
        fields.update(fields_of(kind, form))
    document = (
        f"mutation($input: {input_type_of(mutation)}!) {{ {mutation}(input: $input) "
        f"{{ errors {payload} {{ id }} }} }}"
    )
    svc = services_of(request)
    answer = await gql.mutate(svc, actor, mutation, document, {"input": fields})
    created = answer.data.get(payload) if answer.ok else None
    if not created:
        refused = errors_by_field(answer.errors, kind=kind)
        return await new_page(request, owner, values, refused, 422)
    destination_id = numeric_id(created["id"]) or 0
    errors = await _add_extras(svc, actor, owner, kind, destination_id, lists, form)
    flash(request, errors, "Destination added" if not errors else None)
    return redirect(owner.destination_url(kind.key, destination_id))


async def _add_extras(
    svc: Services,
    actor: Actor,
    owner: Owner,
    kind: Kind,
    destination_id: int,
    lists: dict[str, list[str]],
    form: dict[str, str],
) -> dict[str, list[str]]:
    """The HTTP form's headers and filters, each through its own mutation."""
    errors: dict[str, list[str]] = {}
    if kind.key != "http":
        return errors
    # The destination by GitLab's HTTP ID, whichever API created it.
    node = await find_destination(svc, actor, owner, kind, destination_id, None)
    if node is None:
        return errors
    for name, input_type, field, variables, selection in _http_extras(
        owner, node["id"], lists, form
    ):
        document = mutation_document(name, input_type, selection)
        extra = await gql.mutate(svc, actor, name, document, {"input": variables})
        for key, messages in errors_by_field(extra.errors, field).items():
            errors.setdefault(key, []).extend(messages)
    return errors


def _http_extras(
    owner: Owner, dest: str, lists: dict[str, list[str]], form: dict[str, str]
) -> list[Call]:
    """The headers, event types and namespace filter typed into the HTTP form."""
    calls: list[Call] = []
    keys = lists.get("header_key", [])
    values = lists.get("header_value", [])
    active = set(lists.get("header_active", []))
    name = f"auditEventsStreaming{owner.prefix}HeadersCreate"
    for index, key in enumerate(keys[:MAX_HEADERS]):
        value = values[index] if index < len(values) else ""
        if key.strip() or value.strip():
            header = {
                "destinationId": dest,
                "key": key,
                "value": value,
                "active": str(index) in active,
            }
            calls.append((name, input_type_of(name), "headers", header, ""))
    calls.extend(event_type_calls(owner, dest, [], lists))
    if not owner.instance and form.get("namespace_path", "").strip():
        calls.extend(namespace_filter_calls(dest, None, form))
    return calls


@router.get(GROUP_NEW)
async def group_new(request: Request, full_path: str) -> Response:
    return await new_page(request, Owner(full_path))


@router.post(GROUP_NEW)
async def group_create(request: Request, full_path: str) -> Response:
    return await create(request, Owner(full_path))


@router.get(ADMIN_NEW)
async def instance_new(request: Request) -> Response:
    return await new_page(request, Owner(None))


@router.post(ADMIN_NEW)
async def instance_create(request: Request) -> Response:
    return await create(request, Owner(None))
