from __future__ import annotations

from datetime import UTC, datetime

from auditwire.domain.events import AuditEvent, EntityType
from auditwire.domain.routing import Route, fan_out


def event(
    event_id: int,
    entity_type: EntityType,
    entity_id: int,
    path: str,
    root: int | None,
    event_type: str = "group_updated",
) -> AuditEvent:
    return AuditEvent(
        id=event_id,
        event_type=event_type,
        author_id=1,
        author_name="Administrator",
        entity_type=entity_type.value,
        entity_id=entity_id,
        entity_path=path,
        target_id=None,
        target_type=None,
        target_details=None,
        ip_address=None,
        details={},
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        stream_only=False,
        root_group_id=root,
    )


def test_group_destinations_get_only_their_tree_and_instance_ones_everything() -> None:
    events = [
        event(1, EntityType.GROUP, 10, "a", 10),
        event(2, EntityType.PROJECT, 30, "a/x/p", 10),
        event(3, EntityType.GROUP, 20, "b", 20),
        event(4, EntityType.USER, 5, "someone", None),
    ]
    routes = [Route(100, 10), Route(200, 20), Route(300, None)]
    assert fan_out(events, routes) == [
        (1, 100),
        (1, 300),
        (2, 100),
        (2, 300),
        (3, 200),
        (3, 300),
        (4, 300),
    ]


def test_a_group_filter_matches_the_group_and_below_but_not_a_prefix_sibling() -> None:
    route = Route(1, 10, namespace_paths=("a/sub",))
    assert route.matches(event(1, EntityType.GROUP, 11, "a/sub", 10))
    assert route.matches(event(2, EntityType.PROJECT, 30, "a/sub/deep/p", 10))
    assert not route.matches(event(3, EntityType.GROUP, 12, "a/subway", 10))
    assert not route.matches(event(4, EntityType.GROUP, 10, "a", 10))


def test_a_project_filter_matches_that_project_only() -> None:
    route = Route(1, 10, project_ids=(30,))
    assert route.matches(event(1, EntityType.PROJECT, 30, "a/p", 10))
    assert not route.matches(event(2, EntityType.PROJECT, 31, "a/q", 10))
    assert not route.matches(event(3, EntityType.GROUP, 30, "a", 10))


def test_event_type_filters_narrow_to_the_listed_types() -> None:
    route = Route(1, 10, event_types=frozenset({"project_created"}))
    assert route.matches(event(1, EntityType.PROJECT, 30, "a/p", 10, "project_created"))
    assert not route.matches(event(2, EntityType.PROJECT, 30, "a/p", 10, "project_updated"))
