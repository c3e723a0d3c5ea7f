"""`/user`, `/users` and personal access tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from auditwire.api.auth import current_actor, services
from auditwire.domain.namespaces import User
from auditwire.services.container import Services
from auditwire.services.context import Actor

router = APIRouter()


def user_json(user: User, *, full: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": user.id,
        "username": user.username,
        "name": user.name,
        "state": user.state,
        "avatar_url": None,
        "web_url": f"/{user.username}",
    }
    if full:
        data.update(
            email=user.email,
            is_admin=user.is_admin,
            created_at=user.created_at.isoformat().replace("+00:00", "Z"),
        )
    return data


@router.get("/user")
async def get_current_user(
    actor: Actor = Depends(current_actor), svc: Services = Depends(services)
) -> dict[str, Any]:
    return user_json(actor.user, full=True)
