"""Groups, subgroups, projects, memberships and plans, each change with its audit event."""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Any, Final, Literal

from sqlalchemy.ext.asyncio import AsyncConnection

from auditwire.config import Plan
from auditwire.domain import permissions
from auditwire.domain.events import EntityType, NewAuditEvent, Target, utcnow
from auditwire.domain.namespaces import (
    AccessLevel,
    Group,
    Member,
    Project,
    ancestor_paths,
    validate_expires_at,
    validate_name,
    validate_path,
)
from auditwire.errors import Conflict, Forbidden, InvalidInput, NotFound, NotSaved
from auditwire.services.context import Actor
from auditwire.services.events import record
from auditwire.store import Store
from auditwire.store import namespaces as ns_store
from auditwire.store import users as users_store
from auditwire.store.namespaces import GROUP_SOURCE, PROJECT_SOURCE

GROUP_NOT_FOUND = "404 Group Not Found"
PROJECT_NOT_FOUND = "404 Project Not Found"
MEMBER_NOT_FOUND = "404 Member Not Found"
ALL_MEMBERS_LIMIT = 100_000  # members gathered for `members/all` before merging levels


class _Unchanged(Enum):
    KEEP = "keep"


# `update_member(expires_at=KEEP_EXPIRY)`: the request did not name `expires_at`, so the member's
# expiry stays as it is (GitLab changes only the attributes given; `None` clears the expiry).
KEEP_EXPIRY: Final = _Unchanged.KEEP
ExpiryChange = date | None | Literal[_Unchanged.KEEP]


def namespace_event(
    actor: Actor,
    entity: Group | Project,
    root: Group,
    event_type: str,
    message: str,
    target: Target | None = None,
    details: dict[str, Any] | None = None,
) -> NewAuditEvent:
    """An event about a group or project, routed to its top-level group's destinations."""
    entity_type = EntityType.GROUP if isinstance(entity, Group) else EntityType.PROJECT
    return NewAuditEvent(
        event_type=event_type,
        author=actor.author,
        entity_type=entity_type,
        entity_id=entity.id,
        entity_path=entity.full_path,
        target=target or Target(entity.id, entity_type.value, entity.full_path),
        ip_address=actor.ip_address,
        custom_message=message,
        details=details or {},
        root_group_id=root.id,
    )


async def find_group(conn: AsyncConnection, ref: str | int) -> Group | None:
    """A group by numeric id or full path."""
    if isinstance(ref, int) or (ref.isascii() and ref.isdigit()):
        return await ns_store.get_group(conn, int(ref))
    return await ns_store.get_group_by_path(conn, ref)


async def find_project(conn: AsyncConnection, ref: str | int) -> Project | None:
    if isinstance(ref, int) or (ref.isascii() and ref.isdigit()):
        return await ns_store.get_project(conn, int(ref))
    return await ns_store.get_project_by_path(conn, ref)


async def root_of_project(conn: AsyncConnection, project: Project) -> Group:
    root = await ns_store.get_group_by_path(conn, project.full_path.split("/", 1)[0])
    assert root is not None  # a project's root group exists: deleting it cascades
    return root


class NamespaceService:
    def __init__(self, store: Store, default_plan: Plan) -> None:
        self.store = store
        self.default_plan = default_plan

    # Reading ----------------------------------------------------------------------------------

    async def group(self, actor: Actor | None, ref: str | int) -> tuple[Group, AccessLevel]:
        """A group the actor may see, with the actor's access to it; 404 otherwise."""
        async with self.store.read() as conn:
            group = await find_group(conn, ref)
            if group is None or actor is None:
                raise NotFound(GROUP_NOT_FOUND)
            level = await ns_store.group_access(conn, actor.user.id, group)
        if not permissions.can_read(actor.user, level):
            raise NotFound(GROUP_NOT_FOUND)
        return group, level

    async def project(self, actor: Actor | None, ref: str | int) -> tuple[Project, AccessLevel]:
        async with self.store.read() as conn:
            project = await find_project(conn, ref)
            if project is None or actor is None:
                raise NotFound(PROJECT_NOT_FOUND)
            level = await ns_store.project_access(conn, actor.user.id, project)
        if not permissions.can_read(actor.user, level):
            raise NotFound(PROJECT_NOT_FOUND)
        return project, level

    async def namespaces_of(self, projects: list[Project]) -> dict[int, Group]:
        """The groups the projects live in, by id (for showing a project's namespace)."""
        ids = sorted({p.namespace_id for p in projects})
        if not ids:
            return {}
        async with self.store.read() as conn:
            return {g.id: g for g in await ns_store.get_groups(conn, ids)}

    async def root_plan(self, group: Group) -> Plan:
        async with self.store.read() as conn:
            root = await ns_store.root_of(conn, group)
        return root.plan or self.default_plan

    async def list_groups(
        self,
        actor: Actor,
        *,
        parent: Group | None = None,
        top_level_only: bool = False,
        search: str | None = None,
        offset: int,
        limit: int,
    ) -> tuple[list[Group], int]:
        async with self.store.read() as conn:
            return await ns_store.list_groups(
                conn,
                user_id=None if actor.is_admin else actor.user.id,
                parent_id=parent.id if parent else None,
                top_level_only=top_level_only,
                search=search,
                offset=offset,
                limit=limit,
            )

    async def list_projects(
        self,
        actor: Actor,
        *,
        under: Group | None = None,
        search: str | None = None,
        offset: int,
        limit: int,
    ) -> tuple[list[Project], int]:
        async with self.store.read() as conn:
            return await ns_store.list_projects(
                conn,
                user_id=None if actor.is_admin else actor.user.id,
                under=under,
                search=search,
                offset=offset,
                limit=limit,
            )

    # Groups -----------------------------------------------------------------------------------

    async def create_group(
        self,
        actor: Actor,
        *,
        path: str,
        name: str,
        parent_ref: str | int | None = None,
        description: str = "",
    ) -> Group:
        actor.require_write()
        validate_path(path)
        validate_name(name)
        async with self.store.write() as conn:
            parent = None
            if parent_ref is not None:
                parent = await find_group(conn, parent_ref)
                if parent is None:
                    raise NotFound(GROUP_NOT_FOUND)
                level = await ns_store.group_access(conn, actor.user.id, parent)
                if not permissions.can_admin_group(actor.user, level):
                    raise Forbidden("403 Forbidden")
            full_path = f"{parent.full_path}/{path}" if parent else path
            if await ns_store.full_path_taken(conn, full_path):
                raise NotSaved('Failed to save group {:path=>["has already been taken"]}')
            group = await ns_store.insert_group(
                conn,
                parent=parent,
                path=path,
                name=name,
                description=description,
                plan=None if parent else self.default_plan,
                now=utcnow(),
            )
            await ns_store.insert_member(
                conn,
                source_type=GROUP_SOURCE,
                source_id=group.id,
                user_id=actor.user.id,
                access_level=AccessLevel.OWNER,
                expires_at=None,
                now=utcnow(),
            )
            root = await ns_store.root_of(conn, group)
            created = namespace_event(actor, group, root, "group_created", "Added group")
            await record(conn, [created])
        return group

    async def update_group(
        self, actor: Actor, ref: str | int, *, name: str | None, description: str | None
    ) -> Group:
        actor.require_write()
        async with self.store.write() as conn:
            group = await self._group_for_admin(conn, actor, ref)
            changes: dict[str, Any] = {}
            if name is not None and name != group.name:
                changes["name"] = validate_name(name)
            if description is not None and description != group.description:
                changes["description"] = description
            if not changes:
                return group
            updated = await ns_store.update_group(conn, group.id, **changes)
            root = await ns_store.root_of(conn, updated)
            await record(
                conn,
                [
                    namespace_event(
                        actor,
                        updated,
                        root,
                        f"group_{field}_updated",
                        f"Changed {field} from {getattr(group, field)} to {value}",
                        details={"change": field, "from": getattr(group, field), "to": value},
                    )
                    for field, value in changes.items()
                ],
            )
        return updated

    async def delete_group(self, actor: Actor, ref: str | int) -> None:
        actor.require_write()
        async with self.store.write() as conn:
            group = await self._group_for_admin(conn, actor, ref)
            root = await ns_store.root_of(conn, group)
            await record(
                conn, [namespace_event(actor, group, root, "group_destroyed", "Group destroyed")]
            )
            await ns_store.delete_group(conn, group)

    async def set_plan(self, actor: Actor, ref: str | int, plan: str) -> Group:
        actor.require_admin()
        actor.require_write()
        try:
            new_plan = Plan(plan)
        except ValueError:
            raise InvalidInput("plan does not have a valid value", "plan") from None
        async with self.store.write() as conn:
            group = await find_group(conn, ref)
            if group is None:
                raise NotFound("404 Namespace Not Found")
            if not group.is_top_level:
                raise InvalidInput("plan can be set on a top-level group only", "plan")
            old = group.plan or self.default_plan
            updated = await ns_store.update_group(conn, group.id, plan=new_plan.value)
            if old != new_plan:
                await record(
                    conn,
                    [
                        namespace_event(
                            actor,
                            updated,
                            updated,
                            "namespace_plan_updated",
                            f"Changed plan from {old} to {new_plan}",
                            details={"change": "plan", "from": old.value, "to": new_plan.value},
                        )
                    ],
                )
        return updated

    async def _group_for_admin(self, conn: AsyncConnection, actor: Actor, ref: str | int) -> Group:
        group = await find_group(conn, ref)
        if group is None:
            raise NotFound(GROUP_NOT_FOUND)
        level = await ns_store.group_access(conn, actor.user.id, group)
        if not permissions.can_read(actor.user, level):
            raise NotFound(GROUP_NOT_FOUND)
        if not permissions.can_admin_group(actor.user, level):
            raise Forbidden("403 Forbidden")
        return group

    # Projects ---------------------------------------------------------------------------------

    async def create_project(
        self,
        actor: Actor,
        *,
        namespace_ref: str | int,
        path: str,
        name: str,
        description: str = "",
    ) -> Project:
        actor.require_write()
        validate_path(path)
        validate_name(name)
        async with self.store.write() as conn:
            group = await find_group(conn, namespace_ref)
            if group is None:
                raise NotFound("404 Namespace Not Found")
            level = await ns_store.group_access(conn, actor.user.id, group)
            if not permissions.can_read(actor.user, level):
                raise NotFound("404 Namespace Not Found")
            if not permissions.can_create_project(actor.user, level):
                raise Forbidden("403 Forbidden")
            if await ns_store.full_path_taken(conn, f"{group.full_path}/{path}"):
                raise NotSaved(errors={"path": ["has already been taken"]})
            project = await ns_store.insert_project(
                conn, group=group, path=path, name=name, description=description, now=utcnow()
            )
            root = await ns_store.root_of(conn, group)
            await record(
                conn, [namespace_event(actor, project, root, "project_created", "Added project")]
            )
        return project

    async def delete_project(self, actor: Actor, ref: str | int) -> None:
        actor.require_write()
        async with self.store.write() as conn:
            project = await find_project(conn, ref)
            if project is None:
                raise NotFound(PROJECT_NOT_FOUND)
            level = await ns_store.project_access(conn, actor.user.id, project)
            if not permissions.can_read(actor.user, level):
                raise NotFound(PROJECT_NOT_FOUND)
            if not permissions.can_admin_group(actor.user, level):
                raise Forbidden("403 Forbidden")
            root = await root_of_project(conn, project)
            await record(
                conn,
                [namespace_event(actor, project, root, "project_destroyed", "Project destroyed")],
            )
            await ns_store.delete_project(conn, project)

    # Members ----------------------------------------------------------------------------------

    async def list_members(
        self, actor: Actor, source: Group | Project, *, offset: int, limit: int
    ) -> tuple[list[Member], int]:
        source_type = GROUP_SOURCE if isinstance(source, Group) else PROJECT_SOURCE
        async with self.store.read() as conn:
            return await ns_store.list_members(
                conn, source_type, [source.id], offset=offset, limit=limit
            )

    async def list_all_members(
        self, source: Group | Project, *, offset: int, limit: int
    ) -> tuple[list[Member], int]:
        """Direct and inherited members, as GitLab's `members/all`: a user who is a member on
        several levels appears once, with the highest access level."""
        group_path = (
            source.full_path if isinstance(source, Group) else source.full_path.rsplit("/", 1)[0]
        )
        async with self.store.read() as conn:
            groups = [await ns_store.get_group_by_path(conn, p) for p in ancestor_paths(group_path)]
            group_ids = [g.id for g in groups if g is not None]
            found, _ = await ns_store.list_members(
                conn, GROUP_SOURCE, group_ids, offset=0, limit=ALL_MEMBERS_LIMIT
            )
            if isinstance(source, Project):
                direct, _ = await ns_store.list_members(
                    conn, PROJECT_SOURCE, [source.id], offset=0, limit=ALL_MEMBERS_LIMIT
                )
                found += direct
        best: dict[int, Member] = {}
        for member in found:
            held = best.get(member.user.id)
            if held is None or member.access_level > held.access_level:
                best[member.user.id] = member
        ordered = sorted(best.values(), key=lambda m: m.user.id)
        return ordered[offset : offset + limit], len(ordered)

    async def get_member(self, source: Group | Project, user_id: int) -> Member:
        source_type = GROUP_SOURCE if isinstance(source, Group) else PROJECT_SOURCE
        async with self.store.read() as conn:
            member = await ns_store.get_member(conn, source_type, source.id, user_id)
        if member is None:
            raise NotFound(MEMBER_NOT_FOUND)
        return member

    async def add_member(
        self,
        actor: Actor,
        source: Group | Project,
        *,
        user_id: int,
        access_level: AccessLevel,
        expires_at: date | None = None,
    ) -> Member:
        return await self._change_member(
            actor, source, user_id, access_level, expires_at, "member_created"
        )

    async def update_member(
        self,
        actor: Actor,
        source: Group | Project,
        *,
        user_id: int,
        access_level: AccessLevel,
        expires_at: ExpiryChange = KEEP_EXPIRY,
    ) -> Member:
        """Change a member's access level; its expiry too unless `expires_at` is `KEEP_EXPIRY`
        (`None` clears it)."""
        return await self._change_member(
            actor, source, user_id, access_level, expires_at, "member_updated"
        )

    async def remove_member(self, actor: Actor, source: Group | Project, user_id: int) -> None:
        await self._change_member(actor, source, user_id, None, None, "member_destroyed")

    async def _change_member(
        self,
        actor: Actor,
        source: Group | Project,
        user_id: int,
        access_level: AccessLevel | None,
        expires_at: ExpiryChange,
        event_type: str,
    ) -> Member:
        actor.require_write()
        is_group = isinstance(source, Group)
        source_type = GROUP_SOURCE if is_group else PROJECT_SOURCE
        now = utcnow()
        async with self.store.write() as conn:
            if isinstance(source, Group):
                actor_level = await ns_store.group_access(conn, actor.user.id, source)
                root = await ns_store.root_of(conn, source)
            else:
                actor_level = await ns_store.project_access(conn, actor.user.id, source)
                root = await root_of_project(conn, source)
            if not permissions.can_manage_members(actor.user, actor_level):
                raise Forbidden("403 Forbidden")
            user = await users_store.get_user(conn, user_id)
            if user is None:
                raise NotFound("404 User Not Found")
            existing = await ns_store.get_member(conn, source_type, source.id, user_id)
            granted = access_level or (existing.access_level if existing else AccessLevel.GUEST)
            if not permissions.can_grant(actor.user, actor_level, granted) or (
                existing
                and not permissions.can_grant(actor.user, actor_level, existing.access_level)
            ):
                raise Forbidden("403 Forbidden")
            if expires_at is KEEP_EXPIRY:
                expiry = existing.expires_at if existing else None
            else:
                expiry = expires_at
                if event_type != "member_destroyed":
                    validate_expires_at(expiry, now.date())
            if event_type == "member_created":
                if existing is not None:
                    raise Conflict("Member already exists")
                assert access_level is not None
                await ns_store.insert_member(
                    conn,
                    source_type=source_type,
                    source_id=source.id,
                    user_id=user_id,
                    access_level=access_level,
                    expires_at=expiry,
                    now=now,
                )
                details: dict[str, Any] = {"add": "user_access", "as": access_level.name.title()}
            elif existing is None:
                raise NotFound(MEMBER_NOT_FOUND)
            elif event_type == "member_updated":
                assert access_level is not None
                if access_level != AccessLevel.OWNER:
                    await _keep_an_owner(conn, source, existing)
                await ns_store.update_member(
                    conn,
                    source_type=source_type,
                    source_id=source.id,
                    user_id=user_id,
                    access_level=access_level,
                    expires_at=expiry,
                )
                details = {
                    "change": "access_level",
                    "from": existing.access_level.name.title(),
                    "to": access_level.name.title(),
                }
            else:
                await _keep_an_owner(conn, source, existing)
                await ns_store.delete_member(
                    conn, source_type=source_type, source_id=source.id, user_id=user_id
                )
                details = {"remove": "user_access"}
            target = Target(user.id, "User", user.username)
            message = {
                "member_created": f"Added {user.username} as member",
                "member_updated": f"Changed access level of {user.username}",
                "member_destroyed": f"Removed {user.username} as member",
            }[event_type]
            await record(
                conn, [namespace_event(actor, source, root, event_type, message, target, details)]
            )
            member = await ns_store.get_member(conn, source_type, source.id, user_id)
        if member is None:  # removed: report what was there
            assert existing is not None
            return existing
        return member


async def _keep_an_owner(conn: AsyncConnection, source: Group | Project, member: Member) -> None:
    """A group's last direct owner can be neither removed nor demoted (GitLab's rule)."""
    if (
        isinstance(source, Group)
        and member.access_level == AccessLevel.OWNER
        and await ns_store.count_owners(conn, source.id) <= 1
    ):
        raise Forbidden("403 Forbidden - a group must keep at least one owner")
