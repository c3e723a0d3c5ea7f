"""A replay selects in SQL what fan-out selects in Python: the same events for every route."""

from __future__ import annotations

import sqlalchemy as sa

from auditwire.domain.events import AuditEvent
from auditwire.domain.routing import Route
from auditwire.services import events as event_service
from auditwire.services.container import Services
from auditwire.store.delivery_ops import route_matches
from auditwire.store.events import event_from_row
from auditwire.store.schema import audit_events
from tests.integration.streaming.factories import group_event, project_event, user_event


async def test_route_matches_selects_exactly_what_fan_out_matches(services: Services) -> None:
    # Paths with LIKE's wildcards: `team_a` must not match `teamxa` nor `team%b`'s children.
    root, other = 1, 2
    events = [
        group_event(10, "acme", "group_created", root_id=root),
        group_event(11, "acme/team_a", "group_updated", root_id=root),
        group_event(12, "acme/team_a/deep", "group_created", root_id=root),
        group_event(13, "acme/teamxa", "group_created", root_id=root),
        group_event(14, "acme/team_ab", "group_created", root_id=root),
        project_event(20, "acme/team_a/app", root, "project_created"),
        project_event(21, "acme/teamxa/app", root, "project_created"),
        project_event(22, "acme/app", root, "project_updated"),
        group_event(30, "elsewhere", "group_created", root_id=other),
        user_event(),
    ]
    async with services.store.write() as conn:
        await event_service.record(conn, events)
    routes = [
        Route(1, None),
        Route(2, root),
        Route(3, root, frozenset({"group_created", "project_created"})),
        Route(4, root, namespace_paths=("acme/team_a",)),
        Route(5, root, frozenset({"group_created"}), namespace_paths=("acme/team_a",)),
        Route(6, root, project_ids=(22,)),
        Route(7, None, frozenset({"user_created"})),
        Route(8, other, namespace_paths=("elsewhere",)),
    ]
    async with services.store.read() as conn:
        stored = [event_from_row(r) for r in await conn.execute(sa.select(audit_events))]
        for route in routes:
            selected = await conn.execute(sa.select(audit_events.c.id).where(route_matches(route)))
            assert {i for (i,) in selected} == _matching(stored, route), route


def _matching(events: list[AuditEvent], route: Route) -> set[int]:
    return {e.id for e in events if route.matches(e)}
