"""Recording audit events (always inside the caller's transaction) and reading them back."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from auditwire.domain.events import AuditEvent, NewAuditEvent, utcnow
from auditwire.metrics import EVENTS_RECORDED
from auditwire.store import Store
from auditwire.store import deliveries as deliveries_store
from auditwire.store import events as events_store


async def record(conn: AsyncConnection, events: Sequence[NewAuditEvent]) -> list[AuditEvent]:
    """Record events in the transaction of the change they describe, with one pending delivery
    per matching active destination: the event and its deliveries commit or vanish together."""
    recorded = await deliveries_store.record_events(conn, events, utcnow())
    count_recorded(recorded)
    return recorded


def count_recorded(events: Sequence[AuditEvent]) -> None:
    """Count recorded events for `/-/metrics`, by entity type."""
    for entity_type, count in Counter(event.entity_type for event in events).items():
        EVENTS_RECORDED.labels(entity_type).inc(count)


@dataclass(frozen=True, slots=True)
class EventQuery:
    entity_type: str | None = None
    entity_id: int | None = None
    author_id: int | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    event_type: str | None = None
    # Set when a filter excludes everything the caller may see (another author's events for
    # a caller who sees only their own): the list is empty without asking the database.
    empty: bool = False

    def narrowed(self, *, author_id: int | None, event_type: str | None) -> EventQuery:
        """The same scope, filtered further by author and event type."""
        empty = self.empty or (
            author_id is not None and self.author_id is not None and author_id != self.author_id
        )
        return replace(
            self,
            author_id=author_id if author_id is not None else self.author_id,
            event_type=event_type or self.event_type,
            empty=empty,
        )


class EventService:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def list(
        self, query: EventQuery, *, offset: int, limit: int
    ) -> tuple[list[AuditEvent], int]:
        if query.empty:
            return [], 0
        async with self.store.read() as conn:
            return await events_store.list_events(
                conn,
                entity_type=query.entity_type,
                entity_id=query.entity_id,
                author_id=query.author_id,
                event_type=query.event_type,
                created_after=query.created_after,
                created_before=query.created_before,
                offset=offset,
                limit=limit,
            )

    async def get(self, event_id: int) -> AuditEvent | None:
        async with self.store.read() as conn:
            return await events_store.get_event(conn, event_id)
