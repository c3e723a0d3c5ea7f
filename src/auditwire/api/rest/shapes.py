"""GitLab's JSON shapes for users, groups, projects, members and namespaces."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import orjson
from fastapi import Request, Response

from auditwire.config import Plan
from auditwire.domain.events import format_timestamp
from auditwire.domain.namespaces import Group, Member, Project, User


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def json_response(data: Any, status_code: int = 200) -> Response:
    """orjson-encoded JSON."""
    return Response(orjson.dumps(data), status_code=status_code, media_type="application/json")


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _time(value: datetime) -> str:
    return format_timestamp(value)


def user_json(user: User, base: str, *, full: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": user.id,
        "username": user.username,
        "name": user.name,
        "state": user.state,
        "locked": False,
        "avatar_url": None,
        "web_url": f"{base}/{user.username}",
    }
    if full:
        data.update(
            email=user.email,
            is_admin=user.is_admin,
            created_at=_time(user.created_at),
            bot=False,
        )
    return data


def group_json(group: Group, base: str) -> dict[str, Any]:
    name_parts = group.full_path.split("/")
    return {
        "id": group.id,
        "web_url": f"{base}/groups/{group.full_path}",
        "name": group.name,
        "path": group.path,
        "description": group.description,
        "visibility": "private",
        "full_name": " / ".join([*name_parts[:-1], group.name]),
        "full_path": group.full_path,
        "parent_id": group.parent_id,
        "avatar_url": None,
        "created_at": _time(group.created_at),
    }


def namespace_json(group: Group, base: str, plan: Plan | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": group.id,
        "name": group.name,
        "path": group.path,
        "kind": "group",
        "full_path": group.full_path,
        "parent_id": group.parent_id,
        "avatar_url": None,
        "web_url": f"{base}/groups/{group.full_path}",
    }
    if plan is not None:
        data["plan"] = plan.value
    return data


def project_json(project: Project, namespace: Group | None, base: str) -> dict[str, Any]:
    namespace_path = project.full_path.rsplit("/", 1)[0]
    if namespace is not None:
        ns = namespace_json(namespace, base)
    else:  # the caller may see the project (direct membership) but not its group
        ns = {
            "id": project.namespace_id,
            "name": namespace_path.rsplit("/", 1)[-1],
            "path": namespace_path.rsplit("/", 1)[-1],
            "kind": "group",
            "full_path": namespace_path,
            "parent_id": None,
            "avatar_url": None,
            "web_url": f"{base}/groups/{namespace_path}",
        }
    return {
        "id": project.id,
        "description": project.description,
        "name": project.name,
        "name_with_namespace": f"{ns['name']} / {project.name}",
        "path": project.path,
        "path_with_namespace": project.full_path,
        "created_at": _time(project.created_at),
        "default_branch": None,
        "visibility": "private",
        "web_url": f"{base}/{project.full_path}",
        "avatar_url": None,
        "namespace": ns,
    }


def member_json(member: Member, base: str) -> dict[str, Any]:
    return {
        **user_json(member.user, base),
        "access_level": int(member.access_level),
        "created_at": _time(member.created_at),
        "expires_at": _day(member.expires_at),
        "membership_state": "active",
    }
