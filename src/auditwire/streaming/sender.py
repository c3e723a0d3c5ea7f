"""One HTTP POST per delivery over shared keep-alive connection pools (aiohttp)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import aiohttp
from multidict import CIMultiDict

from auditwire.domain.signing import sign
from auditwire.streaming.destinations import EVENT_TYPE_HEADER, DestinationConfig
from auditwire.streaming.guard import GuardedResolver

TIMEOUT = 8.0  # seconds: GitLab's open, read and write timeouts
RESPONSE_BODY_LIMIT = 64 * 1024  # bytes read from a response; the rest is dropped
KEEPALIVE = 30.0  # seconds an idle connection is kept for the next POST
TOTAL_FACTOR = 3  # a whole request may take this many timeouts at most


@dataclass(frozen=True, slots=True)
class Attempt:
    """What happened to one POST: a status, or None with the error when no response came."""

    status: int | None
    retry_after: str | None = None
    error: str | None = None


class Sender:
    """Owns one ClientSession for the worker's life: connections are pooled per destination
    host and reused, redirects are never followed, and every phase has a timeout."""

    def __init__(
        self,
        *,
        timeout: float = TIMEOUT,
        connections: int = 256,
        allow_local_requests: bool = False,
    ) -> None:
        # `total` bounds a receiver that trickles its answer a byte at a time.
        self._timeout = aiohttp.ClientTimeout(
            total=timeout * TOTAL_FACTOR, connect=timeout, sock_connect=timeout, sock_read=timeout
        )
        self._connections = connections
        self._allow_local = allow_local_requests
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        resolver = None if self._allow_local else GuardedResolver()
        connector = aiohttp.TCPConnector(
            limit=self._connections,
            limit_per_host=0,
            resolver=resolver,
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

    async def send(
        self, destination: DestinationConfig, event_id: int, event_type: str, body: bytes
    ) -> Attempt:
        """POST one event. Never raises for a network failure: it returns it as an Attempt."""
        if self._session is None:
            raise RuntimeError("Sender.start() was not awaited")
        if destination.blocked is not None:
            return Attempt(None, error=destination.blocked)
        headers = CIMultiDict(destination.headers)
        headers[EVENT_TYPE_HEADER] = event_type
        message_id = str(event_id)
        timestamp = int(time.time())
        headers["webhook-id"] = message_id
        headers["webhook-timestamp"] = str(timestamp)
        headers["webhook-signature"] = sign(destination.signing_key, message_id, timestamp, body)
        try:
            async with self._session.post(
                destination.url, data=body, headers=headers, allow_redirects=False
            ) as response:
                await _drain(response)
                return Attempt(response.status, response.headers.get("Retry-After"))
        except TimeoutError:
            return Attempt(None, error="timed out")
        except aiohttp.ClientError as error:
            return Attempt(None, error=_describe(error))
        except OSError as error:
            return Attempt(None, error=_describe(error))


async def _drain(response: aiohttp.ClientResponse) -> None:
    """Read the answer so the connection can be reused, up to a limit past which it is not."""
    received = 0
    while chunk := await response.content.readany():
        received += len(chunk)
        if received > RESPONSE_BODY_LIMIT:
            response.close()
            return


def _describe(error: BaseException) -> str:
    cause = error.__cause__ or error.__context__
    text = str(error) or type(error).__name__
    if cause is not None and str(cause) and str(cause) not in text:
        text = f"{text}: {cause}"
    return text
