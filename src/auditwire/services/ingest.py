"""Ingestion of audit events from other applications, with group commit.

Concurrent requests are queued and written by one writer task: each transaction takes every
request waiting at that moment (up to `MAX_EVENTS_PER_TRANSACTION` events), so under load
many small requests share one commit, and each request is answered only after the commit
that holds its events. A request that fails its checks fails alone; the others commit.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from auditwire.domain.events import (
    INSTANCE_ENTITY_ID,
    INSTANCE_ENTITY_PATH,
    AuditEvent,
    Author,
    EntityType,
    NewAuditEvent,
    Target,
    utcnow,
)
from auditwire.domain.namespaces import Group
from auditwire.errors import (
    AuditwireError,
    Conflict,
    IdempotencyKeyReused,
    InvalidInput,
    StorageError,
)
from auditwire.services.context import Actor
from auditwire.services.events import record
from auditwire.store import Store
from auditwire.store import events as events_store
from auditwire.store import namespaces as ns_store
from auditwire.store import users as users_store

MAX_EVENTS_PER_TRANSACTION = 5_000  # events
IDEMPOTENCY_KEY_MAX_LENGTH = 255  # characters
UNKNOWN_AUTHOR_ID = -1  # GitLab's id for an author it cannot name a user for

logger = logging.getLogger(__name__)

Namer = Callable[[str], str]


class IngestItem(NamedTuple):
    """One event as a caller sent it, before its entity and author are resolved.

    A NamedTuple rather than a frozen dataclass: a batch builds a thousand of these, and a
    tuple is built several times faster.
    """

    event_type: str
    entity_type: EntityType
    entity_id: int | None
    entity_path: str | None
    author_id: int | None
    author_name: str | None
    target: Target | None = None
    details: dict[str, Any] | None = None
    custom_message: str | None = None
    ip_address: str | None = None
    created_at: datetime | None = None
    stream_only: bool = False


@dataclass(eq=False, slots=True)
class _Request:
    user_id: int
    items: Sequence[IngestItem]
    key: str | None
    single: bool
    future: asyncio.Future[list[AuditEvent]]
    digest: str = ""  # of the request's events, kept with its key


def request_digest(items: Sequence[IngestItem], single: bool) -> str:
    """What identifies a request's body for its Idempotency-Key: the events as parsed (so
    spacing and key order do not count) and whether one event or a list was sent."""
    body = orjson.dumps([single, [tuple(item) for item in items]], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True, slots=True)
class _Entity:
    id: int
    path: str
    root_group_id: int | None


class _Resolver:
    """Resolves entities and authors inside one transaction, each reference once."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self._entities: dict[tuple[EntityType, int | str], _Entity | None] = {}
        self._users: dict[int, Author | None] = {}
        self._roots: dict[str, int] = {}

    async def _root_id(self, full_path: str) -> int:
        root_path = full_path.split("/", 1)[0]
        if root_path not in self._roots:
            root = await ns_store.get_group_by_path(self.conn, root_path)
            assert root is not None  # a namespace's root exists: deleting it cascades
            self._roots[root_path] = root.id
        return self._roots[root_path]

    async def _lookup(self, kind: EntityType, ref: int | str) -> _Entity | None:
        conn = self.conn
        if kind is EntityType.GROUP:
            group: Group | None = await (
                ns_store.get_group(conn, ref)
                if isinstance(ref, int)
                else ns_store.get_group_by_path(conn, ref)
            )
            if group is None:
                return None
            if group.is_top_level:
                self._roots[group.full_path] = group.id
            return _Entity(group.id, group.full_path, await self._root_id(group.full_path))
        if kind is EntityType.PROJECT:
            project = await (
                ns_store.get_project(conn, ref)
                if isinstance(ref, int)
                else ns_store.get_project_by_path(conn, ref)
            )
            if project is None:
                return None
            return _Entity(project.id, project.full_path, await self._root_id(project.full_path))
        user = await (
            users_store.get_user(conn, ref)
            if isinstance(ref, int)
            else users_store.get_user_by_username(conn, ref)
        )
        return None if user is None else _Entity(user.id, user.username, None)

    async def _cached(self, kind: EntityType, ref: int | str) -> _Entity | None:
        key = (kind, ref)
        if key not in self._entities:
            self._entities[key] = await self._lookup(kind, ref)
        return self._entities[key]

    async def entity(self, item: IngestItem, name: Namer) -> _Entity:
        kind = item.entity_type
        if kind is EntityType.INSTANCE:
            return _Entity(INSTANCE_ENTITY_ID, INSTANCE_ENTITY_PATH, None)
        by_id = by_path = None
        if item.entity_id is not None:
            by_id = await self._cached(kind, item.entity_id)
            if by_id is None:
                field = name("entity_id")
                raise InvalidInput(f"{field} does not match an existing {kind.value}", field)
        if item.entity_path is not None:
            by_path = await self._cached(kind, item.entity_path)
            if by_path is None:
                field = name("entity_path")
                raise InvalidInput(f"{field} does not match an existing {kind.value}", field)
            if by_id is not None and by_id != by_path:
                field = name("entity_path")
                raise InvalidInput(f"{field} and entity_id name different entities", field)
        found = by_id or by_path
        assert found is not None  # the wire model requires an id or a path
        return found

    async def author(self, item: IngestItem, name: Namer) -> Author:
        if item.author_id is None or item.author_name is not None:
            return Author(
                id=item.author_id if item.author_id is not None else UNKNOWN_AUTHOR_ID,
                name=item.author_name or "",
            )
        if item.author_id not in self._users:
            user = await users_store.get_user(self.conn, item.author_id)
            self._users[item.author_id] = None if user is None else Author(user.id, user.name)
        author = self._users[item.author_id]
        if author is None:
            raise InvalidInput(
                f"{name('author.id')} does not match an existing user; give author.name too",
                name("author.id"),
            )
        return author


def _namer(single: bool, index: int) -> Namer:
    """Errors name the field as the caller sent it: `entity_id`, or `events[3].entity_id`."""
    return (lambda f: f) if single else (lambda f: f"events[{index}].{f}")


async def _build(resolver: _Resolver, request: _Request) -> list[NewAuditEvent]:
    events = []
    for index, item in enumerate(request.items):
        name = _namer(request.single, index)
        entity = await resolver.entity(item, name)
        author = await resolver.author(item, name)
        events.append(
            NewAuditEvent(
                event_type=item.event_type,
                author=author,
                entity_type=item.entity_type,
                entity_id=entity.id,
                entity_path=entity.path,
                target=item.target,
                ip_address=item.ip_address,
                custom_message=item.custom_message,
                details=item.details or {},
                created_at=item.created_at,
                stream_only=item.stream_only,
                root_group_id=entity.root_group_id,
            )
        )
    return events


class IngestService:
    """Takes events from other applications; answers after they are committed."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._queue: deque[_Request] = deque()
        self._writer: asyncio.Task[None] | None = None

    async def ingest(
        self,
        actor: Actor,
        items: Sequence[IngestItem],
        *,
        idempotency_key: str | None = None,
        single: bool = False,
    ) -> list[AuditEvent]:
        """Record the events (or, for a known idempotency key, return those recorded before;
        a known key with other events is refused with IdempotencyKeyReused)."""
        actor.require_admin()
        actor.require_write()
        if idempotency_key is not None and not (
            0 < len(idempotency_key) <= IDEMPOTENCY_KEY_MAX_LENGTH
        ):
            raise InvalidInput(
                f"Idempotency-Key must have 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} characters",
                "Idempotency-Key",
            )
        future: asyncio.Future[list[AuditEvent]] = asyncio.get_running_loop().create_future()
        digest = request_digest(items, single) if idempotency_key is not None else ""
        self._queue.append(_Request(actor.user.id, items, idempotency_key, single, future, digest))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain(), name="auditwire-ingest-writer")
        return await future

    async def close(self) -> None:
        """Wait for the writer to finish what is queued."""
        if self._writer is not None:
            await asyncio.wait([self._writer])

    async def _drain(self) -> None:
        batch: list[_Request] = []
        try:
            while self._queue:
                batch, count = [], 0
                while self._queue and (
                    not batch or count + len(self._queue[0].items) <= MAX_EVENTS_PER_TRANSACTION
                ):
                    request = self._queue.popleft()
                    batch.append(request)
                    count += len(request.items)
                await self._commit(batch)
        finally:
            # Cancelled (shutdown): whatever was not answered is not known to be committed.
            for request in [*batch, *self._queue]:
                _settle(request, StorageError("ingestion stopped before commit"))
            self._queue.clear()

    async def _commit(self, batch: list[_Request], *, retried: bool = False) -> None:
        try:
            outcomes = await self._write(batch)
        except Exception as error:
            if len(batch) > 1:
                # One request must not sink the others: retry each in a transaction of its own.
                for request in batch:
                    await self._commit([request])
                return
            if isinstance(error, Conflict) and batch[0].key is not None and not retried:
                # Another process stored the same key first: answer with its events.
                await self._commit(batch, retried=True)
                return
            if not isinstance(error, AuditwireError):
                logger.exception("ingestion failed")
            _settle(batch[0], error)
            return
        for request in batch:
            _settle(request, outcomes[request])

    async def _write(
        self, batch: list[_Request]
    ) -> dict[_Request, list[AuditEvent] | BaseException]:
        outcomes: dict[_Request, list[AuditEvent] | BaseException] = {}
        async with self.store.write() as conn:
            resolver = _Resolver(conn)
            keyed: dict[tuple[int, str], _Request] = {}
            repeats: list[tuple[_Request, _Request]] = []
            spans: list[tuple[_Request, int, int]] = []
            pending: list[NewAuditEvent] = []
            for request in batch:
                if request.key is not None:
                    first = keyed.get((request.user_id, request.key))
                    if first is not None:
                        if first.digest != request.digest:
                            outcomes[request] = IdempotencyKeyReused()
                        else:
                            repeats.append((request, first))
                        continue
                    found = await events_store.find_idempotent(conn, request.user_id, request.key)
                    if found is not None:
                        ids, digest = found
                        if digest is not None and digest != request.digest:
                            outcomes[request] = IdempotencyKeyReused()
                        else:
                            outcomes[request] = await events_store.get_events(conn, ids)
                        continue
                try:
                    built = await _build(resolver, request)
                except AuditwireError as error:
                    outcomes[request] = error
                    continue
                if request.key is not None:
                    keyed[(request.user_id, request.key)] = request
                spans.append((request, len(pending), len(built)))
                pending.extend(built)
            recorded = await record(conn, pending)
            for request, start, count in spans:
                events = recorded[start : start + count]
                outcomes[request] = events
                if request.key is not None:
                    await events_store.remember_idempotent(
                        conn,
                        request.user_id,
                        request.key,
                        [e.id for e in events],
                        request.digest,
                        utcnow(),
                    )
            for request, first in repeats:
                outcomes[request] = outcomes[first]
        return outcomes


def _settle(request: _Request, outcome: list[AuditEvent] | BaseException) -> None:
    if request.future.done():  # the caller went away; its events are committed regardless
        return
    if isinstance(outcome, BaseException):
        request.future.set_exception(outcome)
    else:
        request.future.set_result(outcome)
