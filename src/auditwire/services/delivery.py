"""Seeing and steering delivery: a destination's health and delivery log, a test event sent
right away, replaying a window of events, retrying failed deliveries; and the figures an
operator watches.

Who may: exactly those who may manage the destination (see services/destinations.py); to
everyone else a destination they may not manage does not exist. Replay and retry are changes:
they need a token that may write, and each records its audit event in its transaction.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from auditwire.config import Settings
from auditwire.crypto import SecretBox
from auditwire.domain.delivery_log import (
    MAX_REPLAY_EVENTS,
    REPLAY_EVENT_TYPE,
    REPLAY_TOO_MANY,
    RETRY_FAILED_EVENT_TYPE,
    TEST_EVENT_TYPE,
    AttemptOutcome,
    AttemptRecord,
    DestinationHealth,
    QueueStats,
    validate_replay_window,
)
from auditwire.domain.destination_events import destination_target
from auditwire.domain.destinations import Destination
from auditwire.domain.events import as_utc, format_timestamp, utcnow
from auditwire.domain.owner import OwnerKind
from auditwire.domain.routing import Route
from auditwire.errors import Forbidden, InvalidInput
from auditwire.services.context import Actor
from auditwire.services.destination_access import RESOURCE_NOT_AVAILABLE, actor_event, audit
from auditwire.services.destinations import DestinationService
from auditwire.services.events import count_recorded
from auditwire.store import Store
from auditwire.store import attempts as attempts_store
from auditwire.store import delivery_ops as ops_store
from auditwire.store import events as events_store

TEST_CONNECTIONS = 1  # a test event is one POST


@dataclass(frozen=True, slots=True)
class TestDelivery:
    """What the receiver made of a test event: its status, or the error when none came."""

    event_id: int
    status_code: int | None
    duration_ms: int
    error: str | None


class DeliveryService:
    def __init__(
        self, settings: Settings, store: Store, box: SecretBox, destinations: DestinationService
    ) -> None:
        self.settings = settings
        self.store = store
        self.box = box
        self.destinations = destinations

    # For the owner ----------------------------------------------------------------------------

    async def health(
        self, actor: Actor | None, destination_id: int, *, kind: OwnerKind | None
    ) -> DestinationHealth:
        async with self.store.read() as conn:
            await self._readable(conn, actor, destination_id, kind)
            [found] = await ops_store.destination_health(conn, [destination_id])
        return found

    async def attempts(
        self,
        actor: Actor | None,
        destination_id: int,
        *,
        kind: OwnerKind | None,
        limit: int,
        before_id: int | None = None,
        outcome: AttemptOutcome | None = None,
    ) -> list[AttemptRecord]:
        """The destination's recent attempts, newest first."""
        async with self.store.read() as conn:
            await self._readable(conn, actor, destination_id, kind)
            return await attempts_store.list_attempts(
                conn, destination_id, limit=limit, before_id=before_id, outcome=outcome
            )

    async def send_test(
        self, actor: Actor | None, destination_id: int, *, kind: OwnerKind | None
    ) -> TestDelivery:
        """Record a stream-only test event and POST it to the destination at once, with the
        destination's headers and signature, through the worker's sender."""
        writer = self.destinations.access.writer(actor, kind)
        async with self.store.write() as conn:
            destination, owner = await self.destinations.access.destination(
                conn, writer, destination_id, kind
            )
            stored = await ops_store.load_stored_destination(conn, destination.id)
            assert stored is not None  # read in this transaction
            event = actor_event(
                writer,
                owner,
                TEST_EVENT_TYPE,
                f"Test event for streaming destination {destination.name}",
                destination_target(destination),
            )
            # Stream-only and not fanned out: it goes to this destination alone.
            recorded = await events_store.insert_events(
                conn, [replace(event, stream_only=True)], utcnow()
            )
            count_recorded(recorded)
        [test_event] = recorded
        # The worker's own sinks (imported here: commands that never send skip aiohttp).
        from auditwire.streaming.destinations import build_config
        from auditwire.streaming.sinks import SinkSet
        from auditwire.streaming.sinks.base import Answer, Verdict
        from auditwire.streaming.worker import sink_settings

        sinks = SinkSet(replace(sink_settings(self.settings), connections=TEST_CONNECTIONS))
        await sinks.start()
        started = time.perf_counter()
        try:
            config = await build_config(stored, self.box, sinks)
            answer = await config.sink.send(config.target, test_event, test_event.stream_body())
        except ValueError as unusable:  # settings that cannot be sent: say why, send nothing
            answer = Answer(Verdict.REFUSED, detail=str(unusable))
        finally:
            await sinks.close()
        duration_ms = round((time.perf_counter() - started) * 1000)
        failure = None
        if answer.verdict is not Verdict.DELIVERED:
            failure = answer.detail or f"HTTP {answer.status}"
        return TestDelivery(test_event.id, answer.status, duration_ms, failure)

    async def replay(
        self,
        actor: Actor | None,
        destination_id: int,
        *,
        kind: OwnerKind | None,
        created_after: datetime,
        created_before: datetime,
    ) -> int:
        """Queue the stored events of the window that match the destination's filters for
        delivery again; events already pending for it are skipped. Returns how many."""
        writer = self.destinations.access.writer(actor, kind)
        async with self.store.read() as conn:  # authorize before validating
            await self.destinations.access.destination(conn, writer, destination_id, kind)
        after, before = as_utc(created_after), as_utc(created_before)
        validate_replay_window(after, before)
        async with self.store.write() as conn:
            destination, owner = await self.destinations.access.destination(
                conn, writer, destination_id, kind
            )
            route = route_of(destination)
            if await ops_store.count_replayable(conn, route, after, before) > MAX_REPLAY_EVENTS:
                raise InvalidInput(REPLAY_TOO_MANY, "createdAfter")
            queued = await ops_store.replay(conn, route, after, before, utcnow())
            window = f"from {format_timestamp(after)} to {format_timestamp(before)}"
            await audit(
                conn,
                writer,
                owner,
                destination,
                REPLAY_EVENT_TYPE,
                f"Replayed {queued} audit events created {window} to streaming destination "
                f"{destination.name}",
                {
                    "created_after": format_timestamp(after),
                    "created_before": format_timestamp(before),
                    "queued": queued,
                },
            )
        return queued

    async def retry_failed(
        self, actor: Actor | None, destination_id: int, *, kind: OwnerKind | None
    ) -> int:
        """Make the destination's failed deliveries pending again. Returns how many."""
        writer = self.destinations.access.writer(actor, kind)
        async with self.store.write() as conn:
            destination, owner = await self.destinations.access.destination(
                conn, writer, destination_id, kind
            )
            queued = await ops_store.retry_failed(conn, destination.id, utcnow())
            await audit(
                conn,
                writer,
                owner,
                destination,
                RETRY_FAILED_EVENT_TYPE,
                f"Retried {queued} failed deliveries to streaming destination {destination.name}",
                {"queued": queued},
            )
        return queued

    # For the operator -------------------------------------------------------------------------

    async def queue_stats(self) -> QueueStats:
        async with self.store.read() as conn:
            return await ops_store.queue_stats(conn)

    async def all_health(self) -> list[DestinationHealth]:
        async with self.store.read() as conn:
            return await ops_store.destination_health(conn)

    # Access -----------------------------------------------------------------------------------

    async def _readable(
        self,
        conn: AsyncConnection,
        actor: Actor | None,
        destination_id: int,
        kind: OwnerKind | None,
    ) -> Destination:
        """The destination when the actor may see it, as the destinations' own queries decide."""
        if actor is None:
            raise Forbidden(RESOURCE_NOT_AVAILABLE)
        destination, _ = await self.destinations.access.destination(
            conn, actor, destination_id, kind
        )
        return destination


def route_of(destination: Destination) -> Route:
    """The destination's filters as fan-out applies them."""
    filters = destination.namespace_filters
    return Route(
        destination.id,
        destination.group_id,
        frozenset(destination.event_types),
        tuple(f.namespace_path for f in filters if f.project_id is None),
        tuple(f.project_id for f in filters if f.project_id is not None),
    )
