"""GitLab's REST v4 API, the subset auditwire serves."""

from fastapi import APIRouter

from auditwire.api.rest import users

router = APIRouter()
router.include_router(users.router)

__all__ = ["router"]
