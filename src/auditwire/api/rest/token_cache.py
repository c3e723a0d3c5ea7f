"""A short-lived cache of token lookups for the ingestion hot path.

Applications that ingest events send many small requests with the same token; looking the
token up in the database for each costs more than recording the event. A successful lookup
is reused for `TOKEN_CACHE_TTL`, so a revoked token (or a removed administrator right) can
still ingest for at most that long. Failed lookups are never cached.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from auditwire.api.auth import services_of, token_from
from auditwire.domain.events import utcnow
from auditwire.domain.namespaces import User
from auditwire.domain.tokens import PersonalAccessToken, token_digest
from auditwire.errors import Unauthenticated
from auditwire.services.context import Actor

TOKEN_CACHE_TTL = 5.0  # seconds
TOKEN_CACHE_SIZE = 1_024  # tokens


@dataclass(frozen=True, slots=True)
class _Entry:
    valid_until: float
    user: User
    token: PersonalAccessToken


class TokenCache:
    def __init__(
        self, ttl: float = TOKEN_CACHE_TTL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[str, _Entry] = {}

    async def actor(self, request: Request) -> Actor:
        value = token_from(request)
        if value is None:
            raise Unauthenticated("401 Unauthorized")
        digest = token_digest(value)
        now = self.clock()
        entry = self._entries.get(digest)
        if entry is None or entry.valid_until <= now or entry.token.expired(utcnow().date()):
            user, token = await services_of(request).users.authenticate(value)
            if len(self._entries) >= TOKEN_CACHE_SIZE:
                self._entries.clear()
            entry = self._entries[digest] = _Entry(now + self.ttl, user, token)
        client = request.client.host if request.client else None
        return Actor(user=entry.user, token=entry.token, ip_address=client)


async def cached_actor(request: Request) -> Actor:
    """The caller, as `current_actor` finds it, through the app's token cache."""
    cache: TokenCache | None = getattr(request.app.state, "ingest_token_cache", None)
    if cache is None:
        cache = request.app.state.ingest_token_cache = TokenCache()
    return await cache.actor(request)
