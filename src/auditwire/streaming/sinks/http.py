"""The HTTP kind: one POST per event, as GitLab streams them, over shared keep-alive pools.

Every guarantee of the delivery engine's first sender holds: each phase timed out, redirects
never followed, answers read to a limit, the SSRF guard at connect time, connections kept
alive per host, the Standard Webhooks signature and the destination's headers.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from auditwire import __version__
from auditwire.domain.events import AuditEvent
from auditwire.domain.retry import STATUS_GONE, parse_retry_after
from auditwire.domain.signing import sign, signing_key
from auditwire.streaming.guard import BlockedAddress, GuardedResolver, literal_block
from auditwire.streaming.sinks.base import Answer, Verdict

TIMEOUT = 8.0  # seconds: GitLab's open, read and write timeouts
RESPONSE_BODY_LIMIT = 64 * 1024  # bytes read from a response; the rest is dropped
KEEPALIVE = 30.0  # seconds an idle connection is kept for the next POST
TOTAL_FACTOR = 3  # a whole request may take this many timeouts at most
CONNECTIONS = 256  # connections open at once, over all hosts

TOKEN_HEADER = "X-Gitlab-Event-Streaming-Token"
EVENT_TYPE_HEADER = "X-Gitlab-Audit-Event-Type"
USER_AGENT = f"auditwire/{__version__}"
SIGNING_SECRET_KEY = "signingSecret"  # the prepared config's signing secret (not user config)


@dataclass(frozen=True, slots=True, repr=False)
class HttpTarget:
    """What one POST to a destination needs. Holds secrets: its repr shows none."""

    url: URL
    headers: CIMultiDictProxy[str]  # every header that is the same for each event
    signing_key: bytes
    blocked: str | None  # why the URL's IP literal is refused, when it is

    def __repr__(self) -> str:
        return f"HttpTarget(host={self.url.host!r})"


class HttpSink:
    """Owns one ClientSession for its life: connections are pooled per destination host and
    reused, redirects are never followed, and every phase has a timeout."""

    category: ClassVar[str] = "http"

    def __init__(
        self,
        *,
        timeout: float = TIMEOUT,
        connections: int = CONNECTIONS,
        allow_local_requests: bool = False,
    ) -> None:
        # `total` bounds a receiver that trickles its answer a byte at a time.
        self._timeout = aiohttp.ClientTimeout(
            total=timeout * TOTAL_FACTOR, connect=timeout, sock_connect=timeout, sock_read=timeout
        )
        self._connections = connections
        self._allow_local = allow_local_requests
        self._session: aiohttp.ClientSession | None = None

    def prepare(self, config: Mapping[str, Any], secret: str) -> HttpTarget:
        """`config` is the destination's with its active headers as `{key: {value, active}}`
        and its signing secret under `signingSecret`; `secret` is the verification token."""
        url = URL(str(config.get("url", "")))
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("the destination url is invalid")
        headers: CIMultiDict[str] = CIMultiDict()
        headers["Content-Type"] = "application/json"
        headers["User-Agent"] = USER_AGENT
        for key, header in (config.get("headers") or {}).items():
            if header.get("active", True):  # a custom Content-Type (or User-Agent) wins
                headers[key] = header["value"]
        headers[TOKEN_HEADER] = secret
        for key, value in headers.items():
            if any(c in key or c in value for c in "\r\n\x00"):
                raise ValueError(f"header {key[:40]!r} contains a line break or NUL")
        if (url.user or url.password) and "Authorization" in headers:
            raise ValueError("url credentials and an Authorization header cannot both be sent")
        return HttpTarget(
            url=url,
            headers=CIMultiDictProxy(headers),
            signing_key=signing_key(str(config.get(SIGNING_SECRET_KEY, ""))),
            blocked=None if self._allow_local else literal_block(url.host),
        )

    async def start(self) -> None:
        if self._session is not None:
            return
        connector = aiohttp.TCPConnector(
            limit=self._connections,
            limit_per_host=0,
            resolver=None if self._allow_local else GuardedResolver(),
            keepalive_timeout=KEEPALIVE,
            ttl_dns_cache=10,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=self._timeout,
            auto_decompress=False,
            skip_auto_headers=("User-Agent",),
            # A receiver's cookies are never sent back: each POST stands alone.
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, target: HttpTarget, event: AuditEvent, body: bytes) -> Answer:
        """POST one event. Never raises: every failure of the attempt is an Answer."""
        if self._session is None:
            raise RuntimeError("HttpSink.start() was not awaited")
        if target.blocked is not None:
            return Answer(Verdict.RETRY, detail=target.blocked)
        headers = CIMultiDict(target.headers)
        headers[EVENT_TYPE_HEADER] = event.event_type
        message_id = str(event.id)
        timestamp = int(time.time())
        headers["webhook-id"] = message_id
        headers["webhook-timestamp"] = str(timestamp)
        headers["webhook-signature"] = sign(target.signing_key, message_id, timestamp, body)
        try:
            async with self._session.post(
                target.url, data=body, headers=headers, allow_redirects=False
            ) as response:
                await _drain(response)
                return answer_of(response.status, response.headers.get("Retry-After"))
        except TimeoutError:
            return Answer(Verdict.RETRY, detail="timed out")
        except Exception as error:  # any fault of this one attempt is a failed attempt
            return Answer(Verdict.RETRY, detail=describe(error))


def answer_of(status: int, retry_after: str | None) -> Answer:
    """Only 2xx is delivered; 410 asks us to stop; anything else (3xx too: redirects are not
    followed) is retried, after the receiver's Retry-After when it sent one."""
    if 200 <= status < 300:
        return Answer(Verdict.DELIVERED, status=status)
    if status == STATUS_GONE:
        return Answer(Verdict.GONE, status=status, detail="410 Gone")
    wait = parse_retry_after(retry_after, datetime.now(UTC)) if retry_after else None
    return Answer(Verdict.RETRY, status=status, detail=f"HTTP {status}", retry_after=wait)


async def _drain(response: aiohttp.ClientResponse) -> None:
    """Read the answer so the connection can be reused, up to a limit past which it is not."""
    received = 0
    while chunk := await response.content.readany():
        received += len(chunk)
        if received > RESPONSE_BODY_LIMIT:
            response.close()
            return


def describe(error: BaseException) -> str:
    """Why an attempt failed, in words, without the destination's host or port: delivery
    logs and `lastError` name a destination by its id and name only."""
    if isinstance(error, aiohttp.ClientConnectorError):
        if isinstance(error.os_error, BlockedAddress):
            return str(error.os_error).split(" (", 1)[0]  # the guard's reason, not the host
        reason = error.os_error.strerror or type(error.os_error).__name__
        return f"cannot connect: {reason}"
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return "the server closed the connection"
    if isinstance(error, aiohttp.ClientPayloadError | aiohttp.ClientResponseError):
        return f"invalid response: {type(error).__name__}"
    if isinstance(error, aiohttp.ClientError | OSError):
        return f"connection failed: {type(error).__name__}"
    return f"{type(error).__name__}: {str(error)[:200]}"
