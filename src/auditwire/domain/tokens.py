"""Personal access tokens: generated once, shown once, stored only as a digest."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from auditwire.errors import InvalidInput

TOKEN_PREFIX = "awpat-"
TOKEN_RANDOM_BYTES = 24  # 192 bits of entropy
TOKEN_NAME_MAX_LENGTH = 255  # characters


class Scope(StrEnum):
    API = "api"
    READ_API = "read_api"


@dataclass(frozen=True, slots=True)
class PersonalAccessToken:
    id: int
    user_id: int
    name: str
    scopes: tuple[Scope, ...]
    expires_at: date | None
    revoked: bool
    created_at: datetime

    def expired(self, today: date) -> bool:
        return self.expires_at is not None and self.expires_at <= today

    @property
    def can_write(self) -> bool:
        return Scope.API in self.scopes


def generate_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_RANDOM_BYTES)


def token_digest(token: str) -> str:
    """Tokens carry 192 random bits, so a plain SHA-256 digest is a safe lookup key."""
    return hashlib.sha256(token.encode()).hexdigest()


def parse_scopes(raw: str | list[str] | tuple[str, ...] | None) -> tuple[Scope, ...]:
    items = raw.split(",") if isinstance(raw, str) else list(raw or [])
    items = [item.strip() for item in items if item.strip()]
    if not items:
        raise InvalidInput("scopes is missing", "scopes")
    try:
        return tuple(dict.fromkeys(Scope(item) for item in items))
    except ValueError:
        raise InvalidInput("scopes does not have a valid value", "scopes") from None


def validate_token_name(name: str) -> str:
    if not name or not name.strip():
        raise InvalidInput("name is missing", "name")
    if len(name) > TOKEN_NAME_MAX_LENGTH:
        raise InvalidInput("name is too long (maximum is 255 characters)", "name")
    return name
