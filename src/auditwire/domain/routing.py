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
    namespace_path: str | None = None  # a group filter: that group and everything below
    project_id: int | None = None  # a project filter: that project only

    def matches(self, event: AuditEvent) -> bool:
        if self.group_id is not None and event.root_group_id != self.group_id:
            return False
        if self.event_types and event.event_type not in self.event_types:
            return False
        if self.project_id is not None:
            return event.entity_type == EntityType.PROJECT and event.entity_id == self.project_id
        if self.namespace_path is not None:
            if event.entity_type not in (EntityType.GROUP, EntityType.PROJECT):
                return False
            path = event.entity_path
            return path == self.namespace_path or path.startswith(self.namespace_path + "/")
        return True


def fan_out(events: list[AuditEvent], routes: list[Route]) -> list[tuple[int, int]]:
    """(event id, destination id) for every event and every route it matches."""
    return [(e.id, r.destination_id) for e in events for r in routes if r.matches(e)]
