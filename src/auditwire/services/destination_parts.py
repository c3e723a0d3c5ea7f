"""A destination's parts: the legacy HTTP API's headers, event type filters and namespace
filters, each change audited in its transaction. The destination use cases build on this
(services/destinations.py)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from auditwire.config import Plan
from auditwire.crypto import SecretBox
from auditwire.domain import destinations as rules
from auditwire.domain.categories import HTTP
from auditwire.domain.destination_events import (
    header_event_type,
    header_target,
)
from auditwire.domain.destinations import Header, NamespaceFilter
from auditwire.domain.events import NewAuditEvent, utcnow
from auditwire.domain.namespaces import Group, Project
from auditwire.domain.owner import Owner, OwnerKind
from auditwire.errors import InvalidInput
from auditwire.services.context import Actor
from auditwire.services.destination_access import (
    DestinationAccess,
    actor_event,
    audit,
    not_available,
)
from auditwire.services.events import record
from auditwire.services.namespaces import find_group, find_project
from auditwire.store import Store
from auditwire.store import destinations as dest_store

NAMESPACE_TAKEN = "Namespace has already been taken"


class DestinationParts:
    def __init__(self, store: Store, box: SecretBox, default_plan: Plan) -> None:
        self.store = store
        self.box = box
        self.default_plan = default_plan
        self.access = DestinationAccess(box, default_plan)

    # Headers (http destinations) --------------------------------------------------------------

    async def create_header(
        self,
        actor: Actor | None,
        destination_id: int,
        *,
        kind: OwnerKind,
        key: str,
        value: str,
        active: bool = True,
    ) -> Header:
        writer = self.access.writer(actor, kind)
        async with self.store.write() as conn:  # headers are an http destination's alone
            destination, owner = await self.access.destination(
                conn, writer, destination_id, kind, HTTP
            )
            rules.validate_header(key, value)
            rules.check_authorization(
                destination.destination_url, [*(h.key for h in destination.headers), key]
            )
            if await dest_store.count_headers(conn, destination.id) >= rules.MAX_HEADERS:
                raise InvalidInput(rules.TOO_MANY_HEADERS)
            if await dest_store.header_key_taken(conn, destination.id, key):
                raise InvalidInput(rules.HEADER_KEY_TAKEN, "key")
            now = utcnow()
            header = await dest_store.insert_header(
                conn,
                self.box,
                destination_id=destination.id,
                key=key,
                value=value,
                active=active,
                now=now,
            )
            await dest_store.reset_health(conn, destination.id, now)
            message = f"Created custom HTTP header with key {key}."
            await record(conn, [self._header_event(writer, owner, "create", message, header)])
        return header

    async def update_header(
        self,
        actor: Actor | None,
        header_id: int,
        *,
        kind: OwnerKind,
        key: str | None = None,
        value: str | None = None,
        active: bool | None = None,
    ) -> Header:
        writer = self.access.writer(actor, kind)
        async with self.store.write() as conn:
            header, destination, owner = await self.access.header(conn, writer, header_id, kind)
            rules.validate_header(
                header.key if key is None else key, header.value if value is None else value
            )
            if key is not None:
                others = [h.key for h in destination.headers if h.id != header.id]
                rules.check_authorization(destination.destination_url, [*others, key])
            if (
                key is not None
                and key != header.key
                and await dest_store.header_key_taken(conn, header.destination_id, key, header.id)
            ):
                raise InvalidInput(rules.HEADER_KEY_TAKEN, "key")
            updated = await dest_store.update_header(
                conn, self.box, header.id, key=key, value=value, active=active
            )
            changed = [
                field
                for field, new in (("key", key), ("value", value), ("active", active))
                if new is not None and new != getattr(header, field)
            ]
            if changed:
                await dest_store.reset_health(conn, destination.id, utcnow())
                message = (
                    f"Updated a custom HTTP header from key {header.key} "
                    f"to have a key {updated.key}."
                    if "key" in changed
                    else f"Updated custom HTTP header with key {updated.key}."
                )
                details: dict[str, object] = {
                    "changes": changed
                }  # names only: a header value is a secret
                event = self._header_event(writer, owner, "update", message, updated, details)
                await record(conn, [event])
        return updated

    async def destroy_header(self, actor: Actor | None, header_id: int, *, kind: OwnerKind) -> None:
        writer = self.access.writer(actor, kind)
        async with self.store.write() as conn:
            header, destination, owner = await self.access.header(conn, writer, header_id, kind)
            message = f"Destroyed a custom HTTP header with key {header.key}."
            await record(conn, [self._header_event(writer, owner, "destroy", message, header)])
            await dest_store.delete_header(conn, header.id)
            await dest_store.reset_health(conn, destination.id, utcnow())

    @staticmethod
    def _header_event(
        actor: Actor,
        owner: Owner,
        action: str,
        message: str,
        header: Header,
        details: dict[str, object] | None = None,
    ) -> NewAuditEvent:
        return actor_event(
            actor,
            owner,
            header_event_type(owner, action),
            message,
            header_target(owner, header),
            dict(details or {}),
        )

    # Event type filters -----------------------------------------------------------------------

    async def add_event_types(
        self,
        actor: Actor | None,
        destination_id: int,
        event_types: list[str],
        *,
        kind: OwnerKind | None,
    ) -> list[str]:
        writer = self.access.writer(actor, kind)
        async with self.store.write() as conn:
            destination, owner = await self.access.destination(conn, writer, destination_id, kind)
            wanted = rules.validate_event_types(event_types)
            if any(t in destination.event_types for t in wanted):
                raise InvalidInput(rules.EVENT_TYPE_TAKEN, "eventTypeFilters")
            await dest_store.insert_event_types(conn, destination.id, wanted, utcnow())
            await audit(
                conn,
                writer,
                owner,
                destination,
                "event_type_filters_created",
                f"Created audit event type filter(s): {_sentence(wanted)}",
                {"event_type_filters": wanted},
            )
        return [*destination.event_types, *wanted]

    async def remove_event_types(
        self,
        actor: Actor | None,
        destination_id: int,
        event_types: list[str],
        *,
        kind: OwnerKind | None,
    ) -> None:
        writer = self.access.writer(actor, kind)
        async with self.store.write() as conn:
            destination, owner = await self.access.destination(conn, writer, destination_id, kind)
            unwanted = rules.validate_event_types(event_types)
            unknown = rules.unknown_event_types(unwanted, destination.event_types)
            if unknown is not None:
                raise unknown
            await dest_store.delete_event_types(conn, destination.id, unwanted)
            await audit(
                conn,
                writer,
                owner,
                destination,
                "event_type_filters_deleted",
                f"Deleted audit event type filter(s): {_sentence(unwanted)}",
                {"event_type_filters": unwanted},
            )

    # Namespace filters ------------------------------------------------------------------------

    async def add_namespace_filter(
        self,
        actor: Actor | None,
        destination_id: int,
        *,
        group_path: str | None = None,
        project_path: str | None = None,
        kind: OwnerKind | None = OwnerKind.GROUP,
        legacy: bool = True,
    ) -> NamespaceFilter:
        """Limit the destination to a group (and below) or a project. Through the legacy HTTP
        API (`legacy`) a group destination has one; otherwise up to five, each namespace
        once. A group's destination filters namespaces of that group only."""
        writer = self.access.writer(actor, kind)
        async with self.store.write() as conn:
            destination, owner = await self.access.destination(conn, writer, destination_id, kind)
            namespace, project = await self._namespace(conn, group_path, project_path)
            path = namespace.full_path if namespace else project.full_path if project else ""
            if owner.group is not None and (
                path.split("/", 1)[0].lower() != owner.group.full_path.lower()
            ):
                raise InvalidInput(rules.NAMESPACE_FILTER_OUTSIDE)
            existing = destination.namespace_filters
            if legacy and existing:
                raise InvalidInput(rules.NAMESPACE_FILTER_TAKEN)
            if any(
                (f.group_id, f.project_id)
                == (namespace.id if namespace else None, project.id if project else None)
                for f in existing
            ):
                raise InvalidInput(NAMESPACE_TAKEN, "namespacePath")
            if len(existing) >= rules.MAX_NAMESPACE_FILTERS:
                raise InvalidInput(rules.NAMESPACE_FILTERS_LIMITED, "namespacePath")
            created = await dest_store.insert_namespace_filter(
                conn,
                destination_id=destination.id,
                group_id=namespace.id if namespace else None,
                project_id=project.id if project else None,
                now=utcnow(),
            )
            await audit(
                conn,
                writer,
                owner,
                destination,
                "create_http_namespace_filter",
                f"Create namespace filter for {destination.category} audit event streaming "
                f"destination {destination.name} and namespace {created.namespace_path}",
                {"namespace_filter_id": created.id, "namespace": created.namespace_path},
            )
        return created

    async def delete_namespace_filter(
        self, actor: Actor | None, filter_id: int, *, kind: OwnerKind | None = OwnerKind.GROUP
    ) -> None:
        writer = self.access.writer(actor, kind)
        async with self.store.write() as conn:
            found = await dest_store.get_namespace_filter(conn, filter_id)
            if found is None:
                raise not_available()
            destination, owner = await self.access.destination(
                conn, writer, found.destination_id, kind
            )
            await audit(
                conn,
                writer,
                owner,
                destination,
                "delete_http_namespace_filter",
                f"Delete namespace filter for {destination.category} audit event streaming "
                f"destination {destination.name} and namespace {found.namespace_path}",
                {"namespace_filter_id": found.id, "namespace": found.namespace_path},
            )
            await dest_store.delete_namespace_filter(conn, found.id)

    @staticmethod
    async def _namespace(
        conn: AsyncConnection, group_path: str | None, project_path: str | None
    ) -> tuple[Group | None, Project | None]:
        """The group at `group_path`, or else the project at `project_path`; when both are
        None... the caller gave neither, which the API refuses before calling."""
        if group_path is not None:
            namespace = await find_group(conn, group_path)
            if namespace is None:
                raise not_available()
            return namespace, None
        project = await find_project(conn, project_path or "")
        if project is None:
            raise not_available()
        return None, project

    async def namespace_path_filter(
        self,
        actor: Actor | None,
        destination_id: int,
        namespace_path: str,
        *,
        kind: OwnerKind | None,
    ) -> NamespaceFilter:
        """The consolidated API's filter: `namespace_path` names a group or a project."""
        async with self.store.read() as conn:
            is_group = await find_group(conn, namespace_path) is not None
            is_project = not is_group and await find_project(conn, namespace_path) is not None
        if not is_group and not is_project:
            raise InvalidInput(rules.NAMESPACE_NOT_FOUND, "namespacePath")
        return await self.add_namespace_filter(
            actor,
            destination_id,
            group_path=namespace_path if is_group else None,
            project_path=namespace_path if is_project else None,
            kind=kind,
            legacy=False,
        )


def _sentence(items: list[str]) -> str:
    """Ruby's `to_sentence`, which GitLab's messages use: `a`, `a and b`, `a, b, and c`."""
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + ", and " + items[-1]
