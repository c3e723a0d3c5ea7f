"""Google Cloud Logging: an access token from the OAuth 2.0 JWT-bearer grant (RFC 7523) of the
destination's service account, cached until shortly before it expires, then one
`entries:write` per event."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

import jwt
import orjson
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from auditwire.domain.delivery import OneEvent
from auditwire.domain.keys import rsa_private_key
from auditwire.streaming.sinks._answers import (
    answered,
    json_object,
    required_text,
    retry_answer,
    status_answer,
)
from auditwire.streaming.sinks._client import CONNECTIONS, TIMEOUT, Reply, SinkClient
from auditwire.streaming.sinks.base import Answer

TOKEN_URL = "https://oauth2.googleapis.com/token"
LOGGING_URL = "https://logging.googleapis.com/v2/entries:write"
SCOPE = "https://www.googleapis.com/auth/logging.write"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME = 3600  # seconds: the longest Google accepts
DEFAULT_TOKEN_LIFETIME = 3600  # seconds, when the token answer gives no expires_in
TOKEN_REFRESH_MARGIN = 300.0  # seconds before its expiry a cached token is replaced
DEFAULT_LOG_ID = "audit-events"
STATUS_UNAUTHORIZED = 401
# The rules of GitLab's `gcp` config schema; Google's for a log id.
PROJECT_ID = re.compile(r"[a-z][a-z0-9-]*[a-z0-9]")
PROJECT_ID_LENGTH = (6, 30)  # characters
CLIENT_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
CLIENT_EMAIL_MAX = 254  # characters
LOG_ID = re.compile(r"[A-Za-z0-9/_.-]+")
LOG_ID_MAX = 511  # characters

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class GcpTarget:
    """A service account and the log it writes to. Holds the private key: its repr shows none."""

    project_id: str
    client_email: str
    log_id: str
    log_name: str  # projects/<project>/logs/<log id, with "/" escaped as Google requires>
    private_key: str = field(repr=False)
    signing_key: RSAPrivateKey = field(repr=False, compare=False)


class _TokenFailure(Exception):
    """The token endpoint gave no token; carries the answer for the delivery log."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.detail)
        self.answer = answer


@dataclass(slots=True)
class _Token:
    value: str
    usable_until: float  # on the cache's clock


class TokenCache:
    """Access tokens per (client email, private key): minted once while many events go out,
    and again once the token is within the refresh margin of its expiry."""

    def __init__(self, *, margin: float = TOKEN_REFRESH_MARGIN, clock: Clock = time.monotonic):
        self._margin = margin
        self._clock = clock
        self._tokens: dict[tuple[str, str], _Token] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    async def get(
        self, key: tuple[str, str], mint: Callable[[], Awaitable[tuple[str, float]]]
    ) -> str:
        """The cached token, or a new one from `mint` (which returns it and its lifetime in
        seconds). Concurrent callers for one key wait for a single mint."""
        if (token := self._fresh(key)) is not None:
            return token
        async with self._locks.setdefault(key, asyncio.Lock()):
            if (token := self._fresh(key)) is not None:
                return token
            value, lifetime = await mint()
            now = self._clock()
            self._forget_expired(now)
            # A token that lives less than the margin is used for this request only.
            self._tokens[key] = _Token(value, now + lifetime - self._margin)
            return value

    def drop(self, key: tuple[str, str], value: str) -> None:
        """Forget a token the receiver refused, unless another one replaced it meanwhile."""
        known = self._tokens.get(key)
        if known is not None and known.value == value:
            del self._tokens[key]

    def _fresh(self, key: tuple[str, str]) -> str | None:
        token = self._tokens.get(key)
        if token is not None and self._clock() < token.usable_until:
            return token.value
        return None

    def _forget_expired(self, now: float) -> None:
        for key in [key for key, token in self._tokens.items() if token.usable_until <= now]:
            del self._tokens[key]
            lock = self._locks.get(key)
            if lock is not None and not lock.locked():
                del self._locks[key]


class GcpSink:
    """Writes each event as one log entry with the destination's service account.

    The token and logging URLs are operator settings (AUDITWIRE_GCP_TOKEN_URL and
    AUDITWIRE_GCP_LOGGING_URL), never a group's config, so they are not held to the guard
    against local addresses: an operator may point them at a proxy on the local network.
    """

    category: ClassVar[str] = "gcp"

    def __init__(
        self,
        *,
        token_url: str = TOKEN_URL,
        logging_url: str = LOGGING_URL,
        timeout: float = TIMEOUT,
        connections: int = CONNECTIONS,
        refresh_margin: float = TOKEN_REFRESH_MARGIN,
        clock: Clock = time.monotonic,
    ) -> None:
        self._token_url = token_url
        self._logging_url = logging_url
        self._client = SinkClient(
            timeout=timeout, connections=connections, allow_local_requests=True
        )
        self._tokens = TokenCache(margin=refresh_margin, clock=clock)

    def prepare(self, config: Mapping[str, Any], secret: str) -> GcpTarget:
        project = required_text(
            config,
            "googleProjectIdName",
            pattern=PROJECT_ID,
            limit=PROJECT_ID_LENGTH[1],
            rule="must start with a lower-case letter and contain only lower-case letters,"
            " digits and hyphens, not ending with a hyphen",
        )
        if len(project) < PROJECT_ID_LENGTH[0]:
            raise ValueError(
                f"config googleProjectIdName is too short (minimum is {PROJECT_ID_LENGTH[0]}"
                " characters)"
            )
        email = required_text(
            config,
            "clientEmail",
            pattern=CLIENT_EMAIL,
            limit=CLIENT_EMAIL_MAX,
            rule="must be an email address",
        )
        log_id = required_text(
            {"logIdName": config.get("logIdName") or DEFAULT_LOG_ID},
            "logIdName",
            pattern=LOG_ID,
            limit=LOG_ID_MAX,
            rule="may contain only letters, digits, slashes, underscores, hyphens and periods",
        )
        key = rsa_private_key(secret)
        log_name = f"projects/{project}/logs/{quote(log_id, safe='')}"
        return GcpTarget(project, email, log_id, log_name, secret, key)

    async def start(self) -> None:
        await self._client.start()

    async def close(self) -> None:
        await self._client.close()

    async def send(self, target: GcpTarget, event: OneEvent, body: bytes) -> Answer:
        return await answered(self._write(target, body))

    async def _write(self, target: GcpTarget, body: bytes) -> Answer:
        try:
            return await self._write_with_token(target, body)
        except _TokenFailure as failure:
            return failure.answer

    async def _write_with_token(self, target: GcpTarget, body: bytes) -> Answer:
        entry = {
            "logName": target.log_name,
            "resource": {"type": "global"},
            "severity": "INFO",
            "jsonPayload": orjson.Fragment(body),  # the streamed JSON as it is, not re-encoded
        }
        payload = orjson.dumps({"entries": [entry]})
        key = (target.client_email, target.private_key)
        token = await self._tokens.get(key, lambda: self._mint(target))
        reply = await self._post_entries(token, payload)
        if reply.status == STATUS_UNAUTHORIZED:  # revoked or expired early: one fresh token
            self._tokens.drop(key, token)
            token = await self._tokens.get(key, lambda: self._mint(target))
            reply = await self._post_entries(token, payload)
        return status_answer(reply.status, reply.headers, google_error(reply.body))

    async def _post_entries(self, token: str, payload: bytes) -> Reply:
        return await self._client.request(
            "POST",
            self._logging_url,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            body=payload,
        )

    async def _mint(self, target: GcpTarget) -> tuple[str, float]:
        issued = int(time.time())
        claims = {
            "iss": target.client_email,
            "scope": SCOPE,
            "aud": self._token_url,
            "iat": issued,
            "exp": issued + ASSERTION_LIFETIME,
        }
        assertion = jwt.encode(claims, target.signing_key, algorithm="RS256")
        form = urlencode({"grant_type": GRANT_TYPE, "assertion": assertion}).encode()
        reply = await self._client.request(
            "POST",
            self._token_url,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body=form,
        )
        answer = json_object(reply.body)
        token = answer.get("access_token")
        if not (200 <= reply.status < 300) or not isinstance(token, str) or not token:
            reason = oauth_error(answer) or f"HTTP {reply.status}"
            raise _TokenFailure(retry_answer(reply.status, reply.headers, f"token: {reason}"))
        lifetime = answer.get("expires_in", DEFAULT_TOKEN_LIFETIME)
        if not isinstance(lifetime, int | float) or isinstance(lifetime, bool):
            lifetime = DEFAULT_TOKEN_LIFETIME
        return token, float(lifetime)


def google_error(body: bytes) -> str | None:
    """Google's reason from an API error (`{"error": {"status", "message"}}`), or None."""
    error = json_object(body).get("error")
    if not isinstance(error, dict):
        return None
    status, message = error.get("status"), error.get("message")
    parts = [str(part) for part in (status, message) if isinstance(part, str) and part]
    return ": ".join(parts) or None


def oauth_error(answer: Mapping[str, Any]) -> str | None:
    """An OAuth 2.0 error answer's reason (`error`, `error_description`), or None."""
    parts = [answer.get("error"), answer.get("error_description")]
    return ": ".join(part for part in parts if isinstance(part, str) and part) or None
