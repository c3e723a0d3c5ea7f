"""Which destinations an audit event goes to: GitLab's routing and filter rules, pure."""

from __future__ import annotations

from dataclasses import dataclass

from auditwire.domain.events import AuditEvent, EntityType


@dataclass(frozen=True, slots=True)
class Route:
    """What fan-out needs to know about one active destination."""

    destination_id: int
    group_id: int | None  # None: an instance destination, which gets every event
    event_types: frozenset[str] = frozenset()  # empty: every type
    # Namespace filters; none: every namespace. An event matches when it matches any of them.
    namespace_paths: tuple[str, ...] = ()  # group filters: that group and everything below
    project_ids: tuple[int, ...] = ()  # project filters: that project only

    def matches(self, event: AuditEvent) -> bool:
        if self.group_id is not None and event.root_group_id != self.group_id:
            return False
        if self.event_types and event.event_type not in self.event_types:
            return False
        if not self.namespace_paths and not self.project_ids:
            return True
        if event.entity_type == EntityType.PROJECT and event.entity_id in self.project_ids:
            return True
        if event.entity_type not in (EntityType.GROUP, EntityType.PROJECT):
            return False
        path = event.entity_path
        return any(path == p or path.startswith(p + "/") for p in self.namespace_paths)


def fan_out(events: list[AuditEvent], routes: list[Route]) -> list[tuple[int, int]]:
    """(event id, destination id) for every event and every route it matches."""
    return [(e.id, r.destination_id) for e in events for r in routes if r.matches(e)]
