"""Who may do what: decisions from a user's effective access level, no I/O."""

from __future__ import annotations

from auditwire.domain.namespaces import AccessLevel, User


def effective_access(levels: list[AccessLevel]) -> AccessLevel:
    """Membership is inherited down the tree; the highest level on the path wins."""
    return max(levels, default=AccessLevel.NO_ACCESS)


def can_read(user: User | None, level: AccessLevel) -> bool:
    return user is not None and (user.is_admin or level >= AccessLevel.GUEST)


def can_manage_members(user: User, level: AccessLevel) -> bool:
    return user.is_admin or level >= AccessLevel.MAINTAINER


def can_admin_group(user: User, level: AccessLevel) -> bool:
    """Change or delete a group, create subgroups: Owners (and administrators)."""
    return user.is_admin or level >= AccessLevel.OWNER


def can_create_project(user: User, level: AccessLevel) -> bool:
    return user.is_admin or level >= AccessLevel.MAINTAINER


def can_read_all_group_events(user: User, level: AccessLevel) -> bool:
    """Group owners see every event of the group; lower roles see only their own."""
    return user.is_admin or level >= AccessLevel.OWNER


def can_read_all_project_events(user: User, level: AccessLevel) -> bool:
    """Project maintainers see every event of the project; lower roles see only their own."""
    return user.is_admin or level >= AccessLevel.MAINTAINER


def can_grant(user: User, actor_level: AccessLevel, granted: AccessLevel) -> bool:
    """Nobody but an Owner or administrator grants Owner; Maintainers grant up to Maintainer."""
    if user.is_admin or actor_level >= AccessLevel.OWNER:
        return True
    return actor_level >= AccessLevel.MAINTAINER and granted <= AccessLevel.MAINTAINER
