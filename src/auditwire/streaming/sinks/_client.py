"""The HTTP client every sink sends through: one pooled aiohttp session, the SSRF guard at
connect time, no redirects, no cookies, every phase timed out and answers read to a limit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from auditwire import __version__
from auditwire.streaming.guard import BlockedAddress, GuardedResolver, literal_block

TIMEOUT = 8.0  # seconds: each of connect, read and write, like GitLab's
TOTAL_FACTOR = 3  # a whole request may take this many timeouts at most
RESPONSE_BODY_LIMIT = 64 * 1024  # bytes of an answer kept; a longer one is cut off
KEEPALIVE = 30.0  # seconds an idle connection is kept for the next request
DNS_CACHE = 10  # seconds a resolved name is reused
CONNECTIONS = 256  # connections open at once, over all hosts
USER_AGENT = f"auditwire/{__version__}"


class TransportError(Exception):
    """No answer came: the message says why ("timed out", a refused address, a reset)."""


@dataclass(frozen=True, slots=True)
class Reply:
    """An answer: its status, headers and at most RESPONSE_BODY_LIMIT bytes of its body."""

    status: int
    headers: CIMultiDictProxy[str]
    body: bytes
    truncated: bool = False


class SinkClient:
    """Owns one ClientSession for a sink's life. Connections are pooled per host and reused.

    With `allow_local_requests` false, an address of the local network is refused both when
    written as an IP literal and after a name resolves to it (see `streaming.guard`).
    """

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
        self._guarded = not allow_local_requests
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self._session is not None:
            return
        connector = aiohttp.TCPConnector(
            limit=self._connections,
            limit_per_host=0,
            resolver=GuardedResolver() if self._guarded else None,
            keepalive_timeout=KEEPALIVE,
            ttl_dns_cache=DNS_CACHE,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=self._timeout,
            auto_decompress=False,
            headers={"User-Agent": USER_AGENT},
            # A receiver's cookies are never sent back: each request stands alone.
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(
        self, method: str, url: str, *, headers: Mapping[str, str], body: bytes
    ) -> Reply:
        """Send one request and read its answer. Raises TransportError when none came."""
        if self._session is None:
            raise RuntimeError("SinkClient.start() was not awaited")
        target = URL(url, encoded=True)
        if self._guarded and (blocked := literal_block(target.host)) is not None:
            raise TransportError(blocked)
        try:
            async with self._session.request(
                method, target, data=body, headers=headers, allow_redirects=False
            ) as response:
                content, truncated = await _read_limited(response)
                return Reply(response.status, response.headers, content, truncated)
        except TimeoutError:
            raise TransportError("timed out") from None
        except aiohttp.ClientConnectorError as error:
            if isinstance(error.os_error, BlockedAddress):  # the guard's reason, unwrapped
                raise TransportError(str(error.os_error)) from error
            raise TransportError(describe(error)) from error
        except (aiohttp.ClientError, OSError) as error:
            raise TransportError(describe(error)) from error


async def _read_limited(response: aiohttp.ClientResponse) -> tuple[bytes, bool]:
    """Read the answer so the connection can be reused, up to a limit past which the
    connection is dropped instead: a receiver cannot make auditwire buffer without end."""
    chunks: list[bytes] = []
    received = 0
    while chunk := await response.content.readany():
        chunks.append(chunk)
        received += len(chunk)
        if received > RESPONSE_BODY_LIMIT:
            response.close()
            return b"".join(chunks)[:RESPONSE_BODY_LIMIT], True
    return b"".join(chunks), False


def describe(error: BaseException) -> str:
    """A readable one-line reason for an exception, with its cause when that adds something."""
    cause = error.__cause__ or error.__context__
    text = str(error) or type(error).__name__
    if cause is not None and str(cause) and str(cause) not in text:
        text = f"{text}: {cause}"
    return text


class ClientSink:
    """The part every HTTP-based sink shares: one SinkClient, opened by `start` and closed
    by `close`."""

    def __init__(
        self,
        *,
        timeout: float = TIMEOUT,
        connections: int = CONNECTIONS,
        allow_local_requests: bool = False,
    ) -> None:
        self._client = SinkClient(
            timeout=timeout, connections=connections, allow_local_requests=allow_local_requests
        )

    async def start(self) -> None:
        await self._client.start()

    async def close(self) -> None:
        await self._client.close()
