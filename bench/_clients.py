"""The candidate HTTP clients of bench/clients.py: each a bare POST loop configured to keep
auditwire's guarantees as far as the client allows (timeouts for every phase it has, no
redirects followed, the response body read in chunks up to a limit), run in a child process
of its own so that its CPU time, its runtime threads and its exit are its alone.

Every loop keeps CONCURRENCY requests in flight, sends pre-built bodies and headers (their
building is auditwire's cost, not the client's) and counts the statuses it got.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

CONCURRENCY = 16  # requests in flight: the per-destination budget of the worker
TIMEOUT = 8.0  # seconds: connect, read (and write, where the client has it)
TOTAL = 24.0  # seconds: a whole request
BODY_LIMIT = 64 * 1024  # bytes of a response read at most

# One POST: (url, body, headers) -> status. Raises on a transport failure.
Post = Callable[[str, bytes, dict[str, str]], Awaitable[int]]


@dataclass(frozen=True)
class Candidate:
    name: str
    package: str  # what `pip install` needs
    open: Callable[[], Awaitable[tuple[Post, Callable[[], Awaitable[None]]]]]


async def run_loop(
    post: Post, url: str, requests: list[tuple[bytes, dict[str, str]]]
) -> Counter[int]:
    """All `requests`, CONCURRENCY at a time; the statuses counted."""
    statuses: Counter[int] = Counter()
    next_n = 0

    async def one_lane() -> None:
        nonlocal next_n
        while next_n < len(requests):
            body, headers = requests[next_n]
            next_n += 1
            statuses[await post(url, body, headers)] += 1

    await asyncio.gather(*(one_lane() for _ in range(CONCURRENCY)))
    return statuses


def _aiohttp_session(skip_auto_headers: tuple[str, ...]) -> Any:
    """A session configured as auditwire's sender configures it."""
    import aiohttp

    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=256, limit_per_host=0, keepalive_timeout=30.0),
        timeout=aiohttp.ClientTimeout(
            total=TOTAL, connect=TIMEOUT, sock_connect=TIMEOUT, sock_read=TIMEOUT
        ),
        auto_decompress=False,
        skip_auto_headers=skip_auto_headers,
        cookie_jar=aiohttp.DummyCookieJar(),
    )


async def _aiohttp_drain(response: Any) -> None:
    received = 0
    while chunk := await response.content.readany():
        received += len(chunk)
        if received > BODY_LIMIT:
            response.close()
            return


async def open_aiohttp() -> tuple[Post, Callable[[], Awaitable[None]]]:
    """As auditwire's sender uses it today: one session, a dummy cookie jar, no
    decompression, no User-Agent of its own, the four timeouts, a chunked drain."""
    session = _aiohttp_session(("User-Agent",))

    async def post(url: str, body: bytes, headers: dict[str, str]) -> int:
        async with session.post(url, data=body, headers=headers, allow_redirects=False) as r:
            await _aiohttp_drain(r)
            return int(r.status)

    return post, session.close


async def open_aiohttp_lean() -> tuple[Post, Callable[[], Awaitable[None]]]:
    """aiohttp with less per-request Python: headers handed over as a CIMultiDict (what
    aiohttp copies them into anyway), a parsed URL, no automatic Accept/Accept-Encoding,
    and the body read at once when Content-Length says it fits the limit."""
    from multidict import CIMultiDict
    from yarl import URL

    session = _aiohttp_session(("User-Agent", "Accept", "Accept-Encoding"))
    urls: dict[str, URL] = {}

    async def post(url: str, body: bytes, headers: dict[str, str]) -> int:
        parsed = urls.get(url) or urls.setdefault(url, URL(url))
        async with session.post(
            parsed, data=body, headers=CIMultiDict(headers), allow_redirects=False
        ) as r:
            length = r.content_length
            if length is not None and length <= BODY_LIMIT:
                await r.read()
            else:
                await _aiohttp_drain(r)
            return int(r.status)

    return post, session.close


async def open_pyreqwest() -> tuple[Post, Callable[[], Awaitable[None]]]:
    from pyreqwest.client import ClientBuilder

    client = (
        ClientBuilder()
        .follow_redirects(False)
        .timeout(timedelta(seconds=TOTAL))
        .connect_timeout(timedelta(seconds=TIMEOUT))
        .read_timeout(timedelta(seconds=TIMEOUT))
        .pool_idle_timeout(timedelta(seconds=30))
        .gzip(False)
        .brotli(False)
        .zstd(False)
        .deflate(False)
        .referer(False)
        .no_proxy()
        .build()
    )

    async def post(url: str, body: bytes, headers: dict[str, str]) -> int:
        request = client.post(url).headers(headers).body_bytes(body).build_streamed()
        async with request as r:
            reader = r.body_reader
            received = 0
            while (chunk := await reader.read_chunk()) is not None:
                received += len(chunk)
                if received > BODY_LIMIT:
                    break
            return r.status

    return post, client.close


async def open_pyqwest() -> tuple[Post, Callable[[], Awaitable[None]]]:
    import pyqwest

    transport = pyqwest.HTTPTransport(
        timeout=TOTAL,
        connect_timeout=TIMEOUT,
        read_timeout=TIMEOUT,
        pool_idle_timeout=30.0,
        enable_gzip=False,
        enable_brotli=False,
        enable_zstd=False,
        follow_redirects=False,
        enable_otel=False,
    )
    client = pyqwest.Client(transport)

    async def post(url: str, body: bytes, headers: dict[str, str]) -> int:
        async with client.stream("POST", url, headers, body) as r:
            received = 0
            async for chunk in r.content:
                received += len(chunk)
                if received > BODY_LIMIT:
                    break
            return r.status

    return post, transport.aclose


async def open_httpx() -> tuple[Post, Callable[[], Awaitable[None]]]:
    import httpx

    client = httpx.AsyncClient(
        timeout=httpx.Timeout(TIMEOUT),
        limits=httpx.Limits(max_connections=256, keepalive_expiry=30.0),
        follow_redirects=False,
        trust_env=False,
    )

    async def post(url: str, body: bytes, headers: dict[str, str]) -> int:
        async with (
            asyncio.timeout(TOTAL),
            client.stream("POST", url, content=body, headers=headers) as r,
        ):
            received = 0
            async for chunk in r.aiter_raw():
                received += len(chunk)
                if received > BODY_LIMIT:
                    break
            return r.status_code

    return post, client.aclose


async def open_niquests() -> tuple[Post, Callable[[], Awaitable[None]]]:
    import niquests

    session = niquests.AsyncSession(
        pool_maxsize=CONCURRENCY, disable_http2=True, disable_http3=True
    )
    session.trust_env = False
    timeout = niquests.TimeoutConfiguration(connect=TIMEOUT, read=TIMEOUT, total=TOTAL)

    async def post(url: str, body: bytes, headers: dict[str, str]) -> int:
        r = await session.post(
            url, data=body, headers=headers, allow_redirects=False, stream=True, timeout=timeout
        )
        received = 0
        async for chunk in await r.iter_raw(BODY_LIMIT):
            received += len(chunk)
            if received > BODY_LIMIT:
                break
        await r.close()
        return int(r.status_code or 0)

    return post, session.close


async def open_wreq() -> tuple[Post, Callable[[], Awaitable[None]]]:
    import wreq
    from wreq.redirect import Policy

    client = wreq.Client(
        redirect=Policy.none(),
        timeout=timedelta(seconds=TOTAL),
        connect_timeout=timedelta(seconds=TIMEOUT),
        read_timeout=timedelta(seconds=TIMEOUT),
        pool_idle_timeout=timedelta(seconds=30),
        no_proxy=True,
        gzip=False,
        brotli=False,
        zstd=False,
        deflate=False,
    )

    async def post(url: str, body: bytes, headers: dict[str, str]) -> int:
        async with await client.post(url, headers=headers, body=body) as r:
            received = 0
            async for chunk in r.stream():
                received += len(chunk)
                if received > BODY_LIMIT:
                    break
            return int(r.status.as_int())

    async def close() -> None:
        client.close()

    return post, close


async def open_aiosonic() -> tuple[Post, Callable[[], Awaitable[None]]]:
    import aiosonic
    from aiosonic.timeout import Timeouts

    timeouts = Timeouts(sock_connect=TIMEOUT, sock_read=TIMEOUT, request_timeout=TOTAL)
    client = aiosonic.HTTPClient(aiosonic.TCPConnector(timeouts=timeouts))

    async def post(url: str, body: bytes, headers: dict[str, str]) -> int:
        r = await client.post(url, data=body, headers=headers, follow=False)
        # read_chunks() waits for a chunked body: a Content-Length answer is read whole once
        # its length is known to fit.
        if int(r.headers.get("content-length", BODY_LIMIT + 1)) <= BODY_LIMIT:
            await r.content()
        return int(r.status_code)

    async def close() -> None:
        await client.connector.cleanup()

    return post, close


async def open_wire() -> tuple[Post, Callable[[], Awaitable[None]]]:
    """auditwire's own client (`streaming/sinks/_wire.py`, llhttp through httptools) with
    every header encoded per request from the dict, as a general client would: the sink
    itself encodes the headers that are the same for each event once per destination."""
    from yarl import URL

    from auditwire.streaming.sinks._wire import Origin, WireClient

    client = WireClient(
        timeout=TIMEOUT,
        total=TOTAL,
        connections=256,
        keepalive=30.0,
        body_limit=BODY_LIMIT,
        guarded=False,
    )
    await client.start()
    origins: dict[str, tuple[Origin, str]] = {}

    async def post(url: str, body: bytes, headers: dict[str, str]) -> int:
        known = origins.get(url)
        if known is None:
            parsed = URL(url)
            origin = Origin(parsed.raw_host or "", parsed.port or 80, parsed.scheme == "https")
            line = (
                f"POST {parsed.raw_path_qs} HTTP/1.1\r\nHost: {parsed.host_port_subcomponent}\r\n"
            )
            known = origins[url] = (origin, line)
        origin, line = known
        head = line + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        payload = f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body
        status, _ = await client.post(origin, payload)
        return status

    return post, client.close


CANDIDATES: dict[str, Candidate] = {
    c.name: c
    for c in (
        Candidate("aiohttp", "aiohttp", open_aiohttp),
        Candidate("wire", "httptools", open_wire),
        Candidate("aiohttp-lean", "aiohttp", open_aiohttp_lean),
        Candidate("pyreqwest", "pyreqwest", open_pyreqwest),
        Candidate("pyqwest", "pyqwest", open_pyqwest),
        Candidate("httpx", "httpx", open_httpx),
        Candidate("niquests", "niquests", open_niquests),
        Candidate("wreq", "wreq", open_wreq),
        Candidate("aiosonic", "aiosonic", open_aiosonic),
    )
}


def installed(candidate: Candidate) -> bool:
    import importlib.util

    return importlib.util.find_spec(candidate.package.replace("-", "_")) is not None


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"
