"""Groups, subgroups, projects and memberships."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from auditwire.config import Plan
from auditwire.domain.events import as_utc, utcnow
from auditwire.domain.namespaces import AccessLevel, Group, Member, Project, ancestor_paths
from auditwire.store._paging import is_at_or_below, page
from auditwire.store.schema import members, namespaces, projects, users
from auditwire.store.users import _USER_COLUMNS, user_from_row

GROUP_SOURCE = "Namespace"
PROJECT_SOURCE = "Project"


def group_from_row(row: sa.Row[Any]) -> Group:
    m = row._mapping
    return Group(
        id=m["id"],
        parent_id=m["parent_id"],
        path=m["path"],
        name=m["name"],
        full_path=m["full_path"],
        description=m["description"],
        plan=Plan(m["plan"]) if m["plan"] else None,
        created_at=as_utc(m["created_at"]),
    )


def project_from_row(row: sa.Row[Any]) -> Project:
    m = row._mapping
    return Project(
        id=m["id"],
        namespace_id=m["namespace_id"],
        path=m["path"],
        name=m["name"],
        full_path=m["full_path"],
        description=m["description"],
        created_at=as_utc(m["created_at"]),
    )


# Groups ---------------------------------------------------------------------------------------


async def insert_group(
    conn: AsyncConnection,
    *,
    parent: Group | None,
    path: str,
    name: str,
    description: str,
    plan: Plan | None,
    now: datetime,
) -> Group:
    """A group; a top-level one holds its plan (routing reads it), a subgroup has none."""
    if parent is None and plan is None:
        raise ValueError("a top-level group needs a plan")
    full_path = f"{parent.full_path}/{path}" if parent else path
    row = (
        await conn.execute(
            namespaces.insert()
            .values(
                parent_id=parent.id if parent else None,
                path=path,
                name=name,
                full_path=full_path,
                description=description,
                plan=plan.value if plan else None,
                created_at=now,
            )
            .returning(*namespaces.c)
        )
    ).one()
    return group_from_row(row)


async def get_group(conn: AsyncConnection, group_id: int) -> Group | None:
    row = (await conn.execute(sa.select(namespaces).where(namespaces.c.id == group_id))).first()
    return group_from_row(row) if row else None


async def get_groups(conn: AsyncConnection, group_ids: list[int]) -> list[Group]:
    rows = await conn.execute(sa.select(namespaces).where(namespaces.c.id.in_(group_ids)))
    return [group_from_row(r) for r in rows]


async def get_group_by_path(conn: AsyncConnection, full_path: str) -> Group | None:
    query = sa.select(namespaces).where(sa.func.lower(namespaces.c.full_path) == full_path.lower())
    row = (await conn.execute(query)).first()
    return group_from_row(row) if row else None


async def root_of(conn: AsyncConnection, group: Group) -> Group:
    if group.is_top_level:
        return group
    root = await get_group_by_path(conn, group.root_path)
    assert root is not None  # a subgroup's root exists: deleting it cascades
    return root


def _in_force() -> sa.ColumnElement[bool]:
    """Memberships that grant access now. As GitLab's `Member.not_expired`, a membership holds
    while its `expires_at` date is after today (UTC): it ends when that day begins, and an
    expired membership is no membership, direct or inherited."""
    today = utcnow().date()
    return sa.or_(members.c.expires_at.is_(None), members.c.expires_at > today)


def _visible_groups(user_id: int | None) -> sa.Select[Any]:
    """Groups a user can see: those at or below any group the user is a member of."""
    query = sa.select(namespaces)
    if user_id is None:
        return query
    member_group = namespaces.alias("member_group")
    visible = (
        sa.select(sa.literal(1))
        .select_from(members.join(member_group, member_group.c.id == members.c.source_id))
        .where(
            members.c.source_type == GROUP_SOURCE,
            members.c.user_id == user_id,
            _in_force(),
            is_at_or_below(namespaces.c.full_path, member_group.c.full_path),
        )
    )
    return query.where(visible.exists())


async def list_groups(
    conn: AsyncConnection,
    *,
    user_id: int | None,
    parent_id: int | None = None,
    top_level_only: bool = False,
    search: str | None = None,
    offset: int,
    limit: int,
) -> tuple[list[Group], int]:
    """Groups visible to `user_id` (all when None), optionally the children of `parent_id`."""
    query = _visible_groups(user_id)
    if parent_id is not None:
        query = query.where(namespaces.c.parent_id == parent_id)
    if top_level_only:
        query = query.where(namespaces.c.parent_id.is_(None))
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(
            sa.or_(
                sa.func.lower(namespaces.c.name).like(pattern),
                sa.func.lower(namespaces.c.path).like(pattern),
            )
        )
    return await page(conn, query, namespaces.c.id, offset, limit, group_from_row)


async def update_group(conn: AsyncConnection, group_id: int, **values: Any) -> Group:
    row = (
        await conn.execute(
            namespaces.update()
            .where(namespaces.c.id == group_id)
            .values(**values)
            .returning(*namespaces.c)
        )
    ).one()
    return group_from_row(row)


async def delete_group(conn: AsyncConnection, group: Group) -> None:
    """Delete a group with its subgroups, projects and every membership in them."""
    group_ids = sa.select(namespaces.c.id).where(
        is_at_or_below(namespaces.c.full_path, sa.literal(group.full_path))
    )
    project_ids = sa.select(projects.c.id).where(projects.c.namespace_id.in_(group_ids))
    await conn.execute(
        members.delete().where(
            sa.or_(
                sa.and_(members.c.source_type == GROUP_SOURCE, members.c.source_id.in_(group_ids)),
                sa.and_(
                    members.c.source_type == PROJECT_SOURCE, members.c.source_id.in_(project_ids)
                ),
            )
        )
    )
    await conn.execute(namespaces.delete().where(namespaces.c.id == group.id))


async def full_path_taken(conn: AsyncConnection, full_path: str) -> bool:
    lowered = full_path.lower()
    group = sa.select(namespaces.c.id).where(sa.func.lower(namespaces.c.full_path) == lowered)
    project = sa.select(projects.c.id).where(sa.func.lower(projects.c.full_path) == lowered)
    query = sa.select(sa.or_(group.exists(), project.exists()))
    return bool((await conn.execute(query)).scalar_one())


# Projects -------------------------------------------------------------------------------------


async def insert_project(
    conn: AsyncConnection, *, group: Group, path: str, name: str, description: str, now: datetime
) -> Project:
    row = (
        await conn.execute(
            projects.insert()
            .values(
                namespace_id=group.id,
                path=path,
                name=name,
                full_path=f"{group.full_path}/{path}",
                description=description,
                created_at=now,
            )
            .returning(*projects.c)
        )
    ).one()
    return project_from_row(row)


async def get_project(conn: AsyncConnection, project_id: int) -> Project | None:
    row = (await conn.execute(sa.select(projects).where(projects.c.id == project_id))).first()
    return project_from_row(row) if row else None


async def get_project_by_path(conn: AsyncConnection, full_path: str) -> Project | None:
    query = sa.select(projects).where(sa.func.lower(projects.c.full_path) == full_path.lower())
    row = (await conn.execute(query)).first()
    return project_from_row(row) if row else None


async def list_projects(
    conn: AsyncConnection,
    *,
    user_id: int | None,
    under: Group | None = None,
    search: str | None = None,
    offset: int,
    limit: int,
) -> tuple[list[Project], int]:
    """Projects visible to `user_id` (all when None), optionally those below a group."""
    query = sa.select(projects)
    if under is not None:
        prefix = under.full_path + "/"
        query = query.where(sa.func.substr(projects.c.full_path, 1, len(prefix)) == prefix)
    if search:
        query = query.where(sa.func.lower(projects.c.name).like(f"%{search.lower()}%"))
    if user_id is not None:
        groups = _visible_groups(user_id).with_only_columns(namespaces.c.id)
        direct = sa.select(members.c.source_id).where(
            members.c.source_type == PROJECT_SOURCE, members.c.user_id == user_id, _in_force()
        )
        query = query.where(sa.or_(projects.c.namespace_id.in_(groups), projects.c.id.in_(direct)))
    return await page(conn, query, projects.c.id, offset, limit, project_from_row)


async def delete_project(conn: AsyncConnection, project: Project) -> None:
    await conn.execute(
        members.delete().where(
            members.c.source_type == PROJECT_SOURCE, members.c.source_id == project.id
        )
    )
    await conn.execute(projects.delete().where(projects.c.id == project.id))


# Memberships ----------------------------------------------------------------------------------


async def group_access(conn: AsyncConnection, user_id: int, group: Group) -> AccessLevel:
    """The user's access to a group: the highest level held on it or any ancestor by a
    membership that has not expired."""
    query = (
        sa.select(sa.func.max(members.c.access_level))
        .select_from(members.join(namespaces, namespaces.c.id == members.c.source_id))
        .where(
            members.c.source_type == GROUP_SOURCE,
            members.c.user_id == user_id,
            _in_force(),
            namespaces.c.full_path.in_(ancestor_paths(group.full_path)),
        )
    )
    level = (await conn.execute(query)).scalar_one()
    return AccessLevel(level) if level else AccessLevel.NO_ACCESS


async def project_access(conn: AsyncConnection, user_id: int, project: Project) -> AccessLevel:
    group_path = project.full_path.rsplit("/", 1)[0]
    group = await get_group_by_path(conn, group_path)
    inherited = await group_access(conn, user_id, group) if group else AccessLevel.NO_ACCESS
    direct = (
        await conn.execute(
            sa.select(members.c.access_level).where(
                members.c.source_type == PROJECT_SOURCE,
                members.c.source_id == project.id,
                members.c.user_id == user_id,
                _in_force(),
            )
        )
    ).scalar_one_or_none()
    return max(inherited, AccessLevel(direct) if direct else AccessLevel.NO_ACCESS)


def _member_from_row(row: sa.Row[Any]) -> Member:
    m = row._mapping
    return Member(
        user=user_from_row(row),
        access_level=AccessLevel(m["access_level"]),
        source_type=m["source_type"],
        source_id=m["source_id"],
        created_at=as_utc(m["m_created_at"]),
        expires_at=m["expires_at"],
    )


def _member_query() -> sa.Select[Any]:
    return sa.select(
        *_USER_COLUMNS,
        members.c.access_level,
        members.c.source_type,
        members.c.source_id,
        members.c.created_at.label("m_created_at"),
        members.c.expires_at,
    ).join(users, users.c.id == members.c.user_id)


async def list_members(
    conn: AsyncConnection, source_type: str, source_ids: list[int], *, offset: int, limit: int
) -> tuple[list[Member], int]:
    """Direct members of the given sources (one source, or a group and its ancestors)."""
    query = _member_query().where(
        members.c.source_type == source_type, members.c.source_id.in_(source_ids)
    )
    return await page(conn, query, members.c.id, offset, limit, _member_from_row)


async def get_member(
    conn: AsyncConnection, source_type: str, source_id: int, user_id: int
) -> Member | None:
    query = _member_query().where(
        members.c.source_type == source_type,
        members.c.source_id == source_id,
        members.c.user_id == user_id,
    )
    row = (await conn.execute(query)).first()
    return _member_from_row(row) if row else None


async def insert_member(
    conn: AsyncConnection,
    *,
    source_type: str,
    source_id: int,
    user_id: int,
    access_level: AccessLevel,
    expires_at: date | None,
    now: datetime,
) -> None:
    await conn.execute(
        members.insert().values(
            source_type=source_type,
            source_id=source_id,
            user_id=user_id,
            access_level=int(access_level),
            expires_at=expires_at,
            created_at=now,
        )
    )


async def update_member(
    conn: AsyncConnection,
    *,
    source_type: str,
    source_id: int,
    user_id: int,
    access_level: AccessLevel,
    expires_at: date | None,
) -> None:
    await conn.execute(
        members.update()
        .where(
            members.c.source_type == source_type,
            members.c.source_id == source_id,
            members.c.user_id == user_id,
        )
        .values(access_level=int(access_level), expires_at=expires_at)
    )


async def delete_member(
    conn: AsyncConnection, *, source_type: str, source_id: int, user_id: int
) -> None:
    await conn.execute(
        members.delete().where(
            members.c.source_type == source_type,
            members.c.source_id == source_id,
            members.c.user_id == user_id,
        )
    )


async def count_owners(conn: AsyncConnection, group_id: int) -> int:
    query = sa.select(sa.func.count()).where(
        members.c.source_type == GROUP_SOURCE,
        members.c.source_id == group_id,
        members.c.access_level == int(AccessLevel.OWNER),
    )
    return (await conn.execute(query)).scalar_one()
