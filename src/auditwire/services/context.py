"""Who is acting, for permission checks and for the audit events a change records."""

from __future__ import annotations

from dataclasses import dataclass

from auditwire.domain.events import Author
from auditwire.domain.namespaces import User
from auditwire.domain.tokens import PersonalAccessToken
from auditwire.errors import Forbidden


@dataclass(frozen=True, slots=True)
class Actor:
    user: User
    token: PersonalAccessToken | None = None
    ip_address: str | None = None

    @property
    def author(self) -> Author:
        return Author(id=self.user.id, name=self.user.name)

    @property
    def is_admin(self) -> bool:
        return self.user.is_admin

    def require_admin(self) -> None:
        if not self.user.is_admin:
            raise Forbidden("403 Forbidden")

    def require_write(self) -> None:
        """A read_api token may read but never change anything."""
        if self.token is not None and not self.token.can_write:
            raise Forbidden("403 Forbidden - insufficient_scope")
