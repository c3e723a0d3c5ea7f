"""What every resolver gets: the services and the caller (None when anonymous)."""

from __future__ import annotations

from fastapi import Depends
from strawberry.fastapi import BaseContext
from strawberry.types import Info as StrawberryInfo

from auditwire.api.auth import optional_actor, services
from auditwire.services.container import Services
from auditwire.services.context import Actor


class Context(BaseContext):
    def __init__(self, services: Services, actor: Actor | None) -> None:
        super().__init__()
        self.services = services
        self.actor = actor


Info = StrawberryInfo[Context, None]


async def get_context(
    actor: Actor | None = Depends(optional_actor), svc: Services = Depends(services)
) -> Context:
    """Authenticated like the REST API: `PRIVATE-TOKEN` or `Authorization: Bearer`."""
    return Context(svc, actor)
