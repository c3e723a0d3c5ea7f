"""Managing streaming destinations, their headers and filters, each change audited.

Who may: for a group's destinations, an Owner of the group (inherited ownership counts) or an
instance administrator — GitLab gives administrators owner rights on every group — and only
while the top-level group's plan is Ultimate. Destinations live on top-level groups only. For
the instance's destinations, administrators only. Everyone else learns nothing: a destination
they may not manage is indistinguishable from one that does not exist.

Every change records GitLab's audit event in the same transaction. Events never carry a
verification token, a signing secret or a header value.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from auditwire.config import Plan
from auditwire.crypto import SecretBox
from auditwire.domain import destinations as rules
from auditwire.domain.destinations import Destination, Header, NamespaceFilter
from auditwire.domain.events import utcnow
from auditwire.domain.namespaces import Group, Project
from auditwire.domain.signing import new_signing_secret
from auditwire.errors import InvalidInput
from auditwire.services.context import Actor
from auditwire.services.destination_access import (
    DestinationAccess,
    destination_event,
    destination_target,
    header_event,
    not_available,
)
from auditwire.services.events import record
from auditwire.services.namespaces import find_group, find_project
from auditwire.services.url_safety import UrlSafety
from auditwire.store import Store
from auditwire.store import destinations as dest_store


class DestinationService:
    def __init__(
        self, store: Store, box: SecretBox, default_plan: Plan, url_safety: UrlSafety
    ) -> None:
        self.store = store
        self.box = box
        self.default_plan = default_plan
        self.url_safety = url_safety
        self.access = DestinationAccess(box, default_plan)

    # Reading ----------------------------------------------------------------------------------

    async def group_destinations(
        self, actor: Actor | None, group: Group
    ) -> list[Destination] | None:
        """The group's destinations, or None when the actor may not see them."""
        async with self.store.read() as conn:
            if not await self.access.may_manage(conn, actor, group):
                return None
            return await dest_store.list_destinations(conn, self.box, group.id)

    async def instance_destinations(self, actor: Actor | None) -> list[Destination] | None:
        if not rules.may_manage_instance_destinations(actor.user if actor else None):
            return None
        async with self.store.read() as conn:
            return await dest_store.list_destinations(conn, self.box, None)

    # Destinations -----------------------------------------------------------------------------

    async def create_group_destination(
        self,
        actor: Actor | None,
        *,
        group_path: str,
        destination_url: str,
        name: str | None = None,
        verification_token: str | None = None,
    ) -> Destination:
        actor = self.access.writer(actor, instance=False)
        async with self.store.read() as conn:
            group = await find_group(conn, group_path)
            if group is None or not await self.access.may_manage(conn, actor, group):
                raise not_available()
        if not group.is_top_level:
            raise InvalidInput(rules.SUBGROUP_NOT_ALLOWED, "groupPath")
        token = (
            rules.generate_verification_token()
            if verification_token is None
            else rules.validate_verification_token(verification_token)
        )
        return await self._create(actor, group, destination_url, name, token)

    async def create_instance_destination(
        self, actor: Actor | None, *, destination_url: str, name: str | None = None
    ) -> Destination:
        actor = self.access.writer(actor, instance=True)
        token = rules.generate_verification_token()
        return await self._create(actor, None, destination_url, name, token)

    async def _create(
        self, actor: Actor, group: Group | None, url: str, name: str | None, token: str
    ) -> Destination:
        name = rules.default_name() if name is None or name == "" else rules.validate_name(name)
        await self.url_safety.check(url)
        group_id = group.id if group else None
        async with self.store.write() as conn:
            await self._check_unique(conn, group_id, name=name, url=url)
            if await dest_store.count_active(conn, group_id) >= rules.MAX_ACTIVE_DESTINATIONS:
                raise InvalidInput(rules.TOO_MANY_DESTINATIONS)
            destination_id = await dest_store.insert_destination(
                conn,
                self.box,
                group_id=group_id,
                name=name,
                destination_url=url,
                verification_token=token,
                signing_secret=new_signing_secret(),
                now=utcnow(),
            )
            destination = await self._reload(conn, destination_id)
            await record(
                conn,
                [
                    destination_event(
                        actor,
                        group,
                        "create_event_streaming_destination",
                        f"Create {_family(group)}event streaming destination {url}",
                        destination_target(destination),
                    )
                ],
            )
        return destination

    async def update_destination(
        self,
        actor: Actor | None,
        destination_id: int,
        *,
        instance: bool,
        destination_url: str | None = None,
        name: str | None = None,
        active: bool | None = None,
    ) -> Destination:
        writer = self.access.writer(actor, instance=instance)
        # Authorize before validating: only those who may change it learn the rules, and
        # nobody else can make auditwire resolve names.
        async with self.store.read() as conn:
            await self.access.destination(conn, writer, destination_id, instance)
        if name is not None:
            rules.validate_name(name)
        if destination_url is not None:
            await self.url_safety.check(destination_url)
        async with self.store.write() as conn:
            destination, group = await self.access.destination(
                conn, writer, destination_id, instance
            )
            changes: dict[str, Any] = {}
            if destination_url is not None and destination_url != destination.destination_url:
                changes["destination_url"] = destination_url
            if name is not None and name != destination.name:
                changes["name"] = name
            if active is not None and active != destination.active:
                changes["active"] = active
            if not changes:
                return destination
            await self._check_unique(
                conn,
                destination.group_id,
                name=changes.get("name"),
                url=changes.get("destination_url"),
                except_id=destination.id,
            )
            if changes.get("active") is True and (
                await dest_store.count_active(conn, destination.group_id)
                >= rules.MAX_ACTIVE_DESTINATIONS
            ):
                raise InvalidInput(rules.TOO_MANY_DESTINATIONS)
            await dest_store.update_destination(conn, destination.id, utcnow(), **changes)
            updated = await self._reload(conn, destination.id)
            await record(
                conn,
                [
                    destination_event(
                        writer,
                        group,
                        "update_event_streaming_destination",
                        f"Changed {field} from {getattr(destination, field)} to {value}",
                        destination_target(updated),
                        {"change": field, "from": getattr(destination, field), "to": value},
                    )
                    for field, value in changes.items()
                ],
            )
        return updated

    async def destroy_destination(
        self, actor: Actor | None, destination_id: int, *, instance: bool
    ) -> None:
        writer = self.access.writer(actor, instance=instance)
        async with self.store.write() as conn:
            destination, group = await self.access.destination(
                conn, writer, destination_id, instance
            )
            await record(
                conn,
                [
                    destination_event(
                        writer,
                        group,
                        "destroy_event_streaming_destination",
                        f"Destroy {_family(group)}event streaming destination "
                        f"{destination.destination_url}",
                        destination_target(destination),
                    )
                ],
            )
            await dest_store.delete_destination(conn, destination.id)

    # Headers ----------------------------------------------------------------------------------

    async def create_header(
        self,
        actor: Actor | None,
        destination_id: int,
        *,
        instance: bool,
        key: str,
        value: str,
        active: bool = True,
    ) -> Header:
        writer = self.access.writer(actor, instance=instance)
        async with self.store.write() as conn:
            destination, group = await self.access.destination(
                conn, writer, destination_id, instance
            )
            rules.validate_header(key, value)
            if await dest_store.count_headers(conn, destination.id) >= rules.MAX_HEADERS:
                raise InvalidInput(rules.TOO_MANY_HEADERS)
            if await dest_store.header_key_taken(conn, destination.id, key):
                raise InvalidInput(rules.HEADER_KEY_TAKEN, "key")
            header = await dest_store.insert_header(
                conn,
                self.box,
                destination_id=destination.id,
                key=key,
                value=value,
                active=active,
                now=utcnow(),
            )
            await record(
                conn,
                [
                    header_event(
                        writer,
                        group,
                        "create",
                        f"Created custom HTTP header with key {key}.",
                        header,
                    )
                ],
            )
        return header

    async def update_header(
        self,
        actor: Actor | None,
        header_id: int,
        *,
        instance: bool,
        key: str | None = None,
        value: str | None = None,
        active: bool | None = None,
    ) -> Header:
        writer = self.access.writer(actor, instance=instance)
        async with self.store.write() as conn:
            header, group = await self.access.header(conn, writer, header_id, instance)
            rules.validate_header(
                header.key if key is None else key, header.value if value is None else value
            )
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
                message = (
                    f"Updated a custom HTTP header from key {header.key} "
                    f"to have a key {updated.key}."
                    if "key" in changed
                    else f"Updated custom HTTP header with key {updated.key}."
                )
                details = {"changes": changed}  # names only: a header value is a secret
                event = header_event(writer, group, "update", message, updated, details)
                await record(conn, [event])
        return updated

    async def destroy_header(self, actor: Actor | None, header_id: int, *, instance: bool) -> None:
        writer = self.access.writer(actor, instance=instance)
        async with self.store.write() as conn:
            header, group = await self.access.header(conn, writer, header_id, instance)
            message = f"Destroyed a custom HTTP header with key {header.key}."
            await record(conn, [header_event(writer, group, "destroy", message, header)])
            await dest_store.delete_header(conn, header.id)

    # Event type filters -----------------------------------------------------------------------

    async def add_event_types(
        self, actor: Actor | None, destination_id: int, event_types: list[str], *, instance: bool
    ) -> list[str]:
        writer = self.access.writer(actor, instance=instance)
        async with self.store.write() as conn:
            destination, group = await self.access.destination(
                conn, writer, destination_id, instance
            )
            wanted = rules.validate_event_types(event_types)
            if any(t in destination.event_types for t in wanted):
                raise InvalidInput(rules.EVENT_TYPE_TAKEN, "eventTypeFilters")
            await dest_store.insert_event_types(conn, destination.id, wanted, utcnow())
            await record(
                conn,
                [
                    destination_event(
                        writer,
                        group,
                        "event_type_filters_created",
                        f"Created audit event type filter(s): {_sentence(wanted)}",
                        destination_target(destination),
                        {"event_type_filters": wanted},
                    )
                ],
            )
        return [*destination.event_types, *wanted]

    async def remove_event_types(
        self, actor: Actor | None, destination_id: int, event_types: list[str], *, instance: bool
    ) -> None:
        writer = self.access.writer(actor, instance=instance)
        async with self.store.write() as conn:
            destination, group = await self.access.destination(
                conn, writer, destination_id, instance
            )
            unwanted = rules.validate_event_types(event_types)
            unknown = rules.unknown_event_types(unwanted, destination.event_types)
            if unknown is not None:
                raise unknown
            await dest_store.delete_event_types(conn, destination.id, unwanted)
            await record(
                conn,
                [
                    destination_event(
                        writer,
                        group,
                        "event_type_filters_deleted",
                        f"Deleted audit event type filter(s): {_sentence(unwanted)}",
                        destination_target(destination),
                        {"event_type_filters": unwanted},
                    )
                ],
            )

    # Namespace filters (group destinations only) ----------------------------------------------

    async def add_namespace_filter(
        self,
        actor: Actor | None,
        destination_id: int,
        *,
        group_path: str | None = None,
        project_path: str | None = None,
    ) -> NamespaceFilter:
        writer = self.access.writer(actor, instance=False)
        async with self.store.write() as conn:
            destination, group = await self.access.destination(conn, writer, destination_id, False)
            assert group is not None  # a group destination
            namespace: Group | None = None
            project: Project | None = None
            if group_path is not None:
                namespace = await find_group(conn, group_path)
                root_path = namespace.root_path if namespace else None
            else:
                project = await find_project(conn, project_path or "")
                root_path = project.full_path.split("/", 1)[0] if project else None
            if root_path is None:
                raise not_available()
            if root_path.lower() != group.full_path.lower():
                raise InvalidInput(rules.NAMESPACE_FILTER_OUTSIDE)
            if destination.namespace_filter is not None:
                raise InvalidInput(rules.NAMESPACE_FILTER_TAKEN)
            created = await dest_store.insert_namespace_filter(
                conn,
                destination_id=destination.id,
                group_id=namespace.id if namespace else None,
                project_id=project.id if project else None,
                now=utcnow(),
            )
            await record(
                conn,
                [
                    destination_event(
                        writer,
                        group,
                        "create_http_namespace_filter",
                        f"Create namespace filter for http audit event streaming destination "
                        f"{destination.name} and namespace {created.namespace_path}",
                        destination_target(destination),
                        {"namespace_filter_id": created.id, "namespace": created.namespace_path},
                    )
                ],
            )
        return created

    async def delete_namespace_filter(self, actor: Actor | None, filter_id: int) -> None:
        writer = self.access.writer(actor, instance=False)
        async with self.store.write() as conn:
            found = await dest_store.get_namespace_filter(conn, filter_id)
            if found is None:
                raise not_available()
            destination, group = await self.access.destination(
                conn, writer, found.destination_id, False
            )
            await record(
                conn,
                [
                    destination_event(
                        writer,
                        group,
                        "delete_http_namespace_filter",
                        f"Delete namespace filter for http audit event streaming destination "
                        f"{destination.name} and namespace {found.namespace_path}",
                        destination_target(destination),
                        {"namespace_filter_id": found.id, "namespace": found.namespace_path},
                    )
                ],
            )
            await dest_store.delete_namespace_filter(conn, found.id)

    async def _reload(self, conn: AsyncConnection, destination_id: int) -> Destination:
        destination = await dest_store.get_destination(conn, self.box, destination_id)
        assert destination is not None  # written in this transaction
        return destination

    @staticmethod
    async def _check_unique(
        conn: AsyncConnection,
        group_id: int | None,
        *,
        name: str | None,
        url: str | None,
        except_id: int | None = None,
    ) -> None:
        """Refuse a name or URL the owner already uses; the owner's rules stay locked for the
        rest of the transaction, so the active-destination count checked after holds too."""
        await dest_store.lock_owner(conn, group_id)
        if url is not None and await dest_store.taken(
            conn, group_id, destination_url=url, except_id=except_id
        ):
            raise InvalidInput(rules.URL_TAKEN, "destinationUrl")
        if name is not None and await dest_store.taken(
            conn, group_id, name=name, except_id=except_id
        ):
            raise InvalidInput(rules.NAME_TAKEN, "name")


def _family(group: Group | None) -> str:
    return "" if group is not None else "instance "


def _sentence(items: list[str]) -> str:
    """Ruby's `to_sentence`, which GitLab's messages use: `a`, `a and b`, `a, b, and c`."""
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + ", and " + items[-1]
