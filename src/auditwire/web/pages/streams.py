"""A streaming destination's page and what can be done on it: edit, headers, filters,
activate, delete, send a test event, replay a window, retry the failed deliveries."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from auditwire.services.context import Actor
from auditwire.web import gql
from auditwire.web.pages.stream_config import (
    FORMATS,
    LIMITS,
    current_layout,
    fields_of,
    form_values,
    layout_of,
    with_layout,
)
from auditwire.web.pages.stream_queries import (
    Kind,
    Owner,
    errors_by_field,
    find_destination,
)
from auditwire.web.render import PageNotFound, redirect, render
from auditwire.web.session import (
    check_csrf,
    flash,
    posted_lists,
    require_actor,
    services_of,
    take_flash,
)

OUTCOMES = ("DELIVERED", "RETRY", "FAILED", "GONE")
GROUP_BASE = "/groups/{full_path:path}/-/audit_events/streams/{kind}/{destination_id:int}"
ADMIN_BASE = "/admin/audit_logs/streams/{kind}/{destination_id:int}"

router = APIRouter(include_in_schema=False)


async def _destination(
    request: Request, owner: Owner, kind_key: str, destination_id: int, outcome: str | None = None
) -> tuple[Actor, Kind, dict[str, Any]]:
    actor = await require_actor(request)
    kind = owner.kind(kind_key)
    if kind is None:
        raise PageNotFound()
    node = await find_destination(services_of(request), actor, owner, kind, destination_id, outcome)
    if node is None:
        raise PageNotFound()
    return actor, kind, node


async def show(request: Request, owner: Owner, kind_key: str, destination_id: int) -> Response:
    outcome = request.query_params.get("outcome", "")
    outcome = outcome if outcome in OUTCOMES else ""
    actor, kind, node = await _destination(
        request, owner, kind_key, destination_id, outcome or None
    )
    errors, notice = take_flash(request)
    return render(
        request,
        "destination.html",
        actor,
        owner=owner,
        kind=kind,
        destination=node,
        errors=errors,
        notice=notice,
        outcome=outcome,
        outcomes=OUTCOMES,
        here=owner.destination_url(kind.key, destination_id),
        formats=FORMATS,
        limits=LIMITS,
        values=form_values(node.get("config") or {}),
    )


def mutation_document(name: str, input_type: str, selection: str = "") -> str:
    return f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ errors {selection} }} }}"


async def act(
    request: Request, owner: Owner, kind_key: str, destination_id: int, action: str
) -> Response:
    """Run one action of the destination's page through GraphQL and show the page again."""
    actor, kind, node = await _destination(request, owner, kind_key, destination_id)
    form = await check_csrf(request)
    lists = await posted_lists(request)
    svc = services_of(request)
    here = owner.destination_url(kind.key, destination_id)
    calls = _calls(owner, kind, node, action, form, lists)
    if calls is None:
        raise PageNotFound()
    errors: dict[str, list[str]] = {}
    notice: str | None = None
    for name, input_type, field, variables, selection in calls:
        answer = await gql.mutate(
            svc, actor, name, mutation_document(name, input_type, selection), {"input": variables}
        )
        if not answer.ok:
            for key, messages in errors_by_field(answer.errors, field, kind).items():
                errors.setdefault(key, []).extend(messages)
            break
        notice = _notice(action, answer.data) or notice
    if action == "delete" and not errors:
        flash(request, {}, "Destination deleted")
        return redirect(owner.streams_url)
    flash(request, errors, None if errors else notice)
    return redirect(here)


Call = tuple[str, str, str, dict[str, Any], str]


def _calls(
    owner: Owner,
    kind: Kind,
    node: dict[str, Any],
    action: str,
    form: dict[str, str],
    lists: dict[str, list[str]],
) -> list[Call] | None:
    """The mutations an action takes: (name, input type, field for errors, input, selection)."""
    i = owner.prefix
    dest = node["id"]
    if action == "update":
        fields = {"name": form.get("name", ""), **fields_of(kind, form)}
        if kind.secret and not fields.get(kind.secret):
            del fields[kind.secret]  # left empty: the saved secret stays
        calls = [(kind.update, input_type_of(kind.update), "base", {"id": dest, **fields}, "")]
        return calls + layout_calls(owner, kind, node, form)
    if action == "active":
        active = form.get("active") == "true"
        return [
            (kind.update, input_type_of(kind.update), "active", {"id": dest, "active": active}, "")
        ]
    if action == "delete":
        return [(kind.destroy, input_type_of(kind.destroy), "base", {"id": dest}, "")]
    if action == "test":
        name = f"auditEventsStreamingDestination{i}Test"
        return [
            (
                name,
                input_type_of(name),
                "test",
                {"destinationId": dest},
                "eventId statusCode durationMs error",
            )
        ]
    if action == "replay":
        name = f"auditEventsStreamingDestination{i}Replay"
        window = {
            "destinationId": dest,
            "createdAfter": form.get("created_after", ""),
            "createdBefore": form.get("created_before", ""),
        }
        return [(name, input_type_of(name), "replay", window, "queuedCount")]
    if action == "retry":
        name = f"auditEventsStreamingDestination{i}RetryFailed"
        return [(name, input_type_of(name), "retry", {"destinationId": dest}, "queuedCount")]
    if kind.key != "http":
        return None  # headers and filters are the HTTP kind's alone
    if action == "add_header":
        name = f"auditEventsStreaming{i}HeadersCreate"
        header = {
            "destinationId": dest,
            "key": form.get("header_key", ""),
            "value": form.get("header_value", ""),
            "active": form.get("header_active") == "true",
        }
        return [(name, input_type_of(name), "headers", header, "")]
    if action == "remove_header":
        name = f"auditEventsStreaming{i}HeadersDestroy"
        return [(name, input_type_of(name), "headers", {"headerId": form.get("header_id", "")}, "")]
    if action == "event_types":
        return event_type_calls(owner, dest, node.get("eventTypeFilters") or [], lists)
    if action == "namespace_filter" and not owner.instance:
        return namespace_filter_calls(dest, node.get("namespaceFilter"), form)
    return None


def input_type_of(mutation: str) -> str:
    """GitLab names each mutation's input after the mutation, capitalised."""
    return mutation[0].upper() + mutation[1:] + "Input"


def layout_calls(
    owner: Owner, kind: Kind, node: dict[str, Any], form: dict[str, str]
) -> list[Call]:
    """An HTTP destination's changed format or batch, through the consolidated API (GitLab's
    own HTTP mutations know neither): its whole config, headers as they are."""
    config = node.get("config") or {}
    layout = layout_of(form)
    if not kind.layout or layout == current_layout(config) or not node.get("streamingId"):
        return []
    name = f"{owner.streaming}Update"
    variables = {
        "id": node["streamingId"],
        "config": with_layout(config, form.get("destination_url", ""), layout),
    }
    return [(name, input_type_of(name), "format", variables, "")]


def event_type_calls(
    owner: Owner, dest: str, current: list[str], lists: dict[str, list[str]]
) -> list[Call]:
    """Add the event types newly listed and remove those taken off the list."""
    wanted = parse_event_types(" ".join(lists.get("event_types", [])))
    i = owner.prefix
    add, remove = [t for t in wanted if t not in current], [t for t in current if t not in wanted]
    calls: list[Call] = []
    if remove:
        name = f"auditEventsStreamingDestination{i}EventsRemove"
        calls.append(
            (
                name,
                input_type_of(name),
                "event_types",
                {"destinationId": dest, "eventTypeFilters": remove},
                "",
            )
        )
    if add:
        name = f"auditEventsStreamingDestination{i}EventsAdd"
        calls.append(
            (
                name,
                input_type_of(name),
                "event_types",
                {"destinationId": dest, "eventTypeFilters": add},
                "",
            )
        )
    return calls


def parse_event_types(text: str) -> list[str]:
    """Event types as typed: separated by commas, spaces or lines, each once, in order."""
    seen: list[str] = []
    for part in text.replace(",", " ").split():
        if part not in seen:
            seen.append(part)
    return seen


def namespace_filter_calls(
    dest: str, current: dict[str, Any] | None, form: dict[str, str]
) -> list[Call]:
    """Replace the destination's group or project filter (or remove it, left empty)."""
    calls: list[Call] = []
    if current:
        name = "auditEventsStreamingHTTPNamespaceFiltersDelete"
        calls.append(
            (
                name,
                input_type_of(name),
                "namespace_filter",
                {"namespaceFilterId": current["id"]},
                "",
            )
        )
    path = form.get("namespace_path", "").strip()
    if path:
        key = "projectPath" if form.get("namespace_kind") == "project" else "groupPath"
        name = "auditEventsStreamingHTTPNamespaceFiltersAdd"
        calls.append(
            (name, input_type_of(name), "namespace_filter", {"destinationId": dest, key: path}, "")
        )
    return calls


def _notice(action: str, payload: dict[str, Any]) -> str | None:
    if action == "test":
        status = payload.get("statusCode")
        took = payload.get("durationMs")
        answered = f"status {status}" if status is not None else "no response"
        failure = f": {payload['error']}" if payload.get("error") else ""
        return f"Test event {payload.get('eventId')} sent: {answered} in {took} ms{failure}"
    if action == "replay":
        return f"{payload.get('queuedCount', 0)} events queued for delivery again"
    if action == "retry":
        return f"{payload.get('queuedCount', 0)} failed deliveries queued again"
    return {
        "update": "Destination updated",
        "active": "Destination updated",
        "add_header": "Header added",
        "remove_header": "Header removed",
        "event_types": "Event filters updated",
        "namespace_filter": "Namespace filter updated",
    }.get(action)


# Routes ---------------------------------------------------------------------------------------


@router.get(GROUP_BASE)
async def group_destination(
    request: Request, full_path: str, kind: str, destination_id: int
) -> Response:
    return await show(request, Owner(full_path), kind, destination_id)


@router.post(GROUP_BASE + "/{action}")
async def group_destination_action(
    request: Request, full_path: str, kind: str, destination_id: int, action: str
) -> Response:
    return await act(request, Owner(full_path), kind, destination_id, action)


@router.get(ADMIN_BASE)
async def instance_destination(request: Request, kind: str, destination_id: int) -> Response:
    return await show(request, Owner(None), kind, destination_id)


@router.post(ADMIN_BASE + "/{action}")
async def instance_destination_action(
    request: Request, kind: str, destination_id: int, action: str
) -> Response:
    return await act(request, Owner(None), kind, destination_id, action)
