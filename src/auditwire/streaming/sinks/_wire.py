"""A lean asyncio HTTP/1.1 client for the per-event POST: pre-encoded requests, keep-alive
pools, a timer per request, and llhttp (httptools) to read the answer.

It keeps what the per-event sink promises for every delivery:
- a timeout for each phase: connect (name resolution and TLS handshake included), write
  (no byte of a buffered request leaving for `timeout`), read (no byte of the answer for
  `timeout`), and `total` for the whole request, pool wait included, so that a receiver
  trickling its answer byte by byte is cut off;
- no redirect is followed (a 3xx is an answer like any other);
- the answer's body is read up to `body_limit` bytes, past which the connection is closed;
- the SSRF guard at connect time: the host is resolved here, refused when any address it
  resolves to is blocked (`streaming.guard`), and the connection is made to the checked
  address itself (TLS keeps the host name for SNI and the certificate check);
- connections kept alive per (scheme, host, port), `connections` at most over all hosts,
  idle ones closed after `keepalive` seconds, one the server closed never reused;
- `close()` closes every connection and leaves no timer behind.

Every failure is raised as `WireError` (its message says why, without host or port) or
`TimeoutError`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import ssl
from collections import deque
from dataclasses import dataclass
from typing import Any

import httptools

from auditwire.streaming.guard import resolved_block

DNS_TTL = 10.0  # seconds a resolved (and checked) name is reused

# What an attempt's failure is called, as the sink's answers have always called them.
CLOSED = "the server closed the connection"
INVALID_HEAD = "invalid response: ClientResponseError"
INVALID_BODY = "invalid response: ClientPayloadError"
RESET = "connection failed: ClientOSError"


class WireError(Exception):
    """No usable answer came; the message says why."""


class _Resendable(WireError):
    """The connection failed before any byte of the answer arrived."""


@dataclass(frozen=True, slots=True)
class Origin:
    """Where connections go, and the key of their pool."""

    host: str  # as in the URL: resolved here, sent as SNI
    port: int
    tls: bool


def literal_address(host: str) -> str | None:
    """The host itself when it is an IP address in its usual form (nothing to resolve)."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


class _Connection(asyncio.Protocol):
    """One keep-alive connection: at most one request on it at a time."""

    def __init__(self, client: WireClient, origin: Origin) -> None:
        self._client = client
        self.origin = origin
        self._loop = client._loop
        self._parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.lost: asyncio.Future[None] = self._loop.create_future()
        self.closed = False
        self.reused = False
        self.idle_since = 0.0
        self._answer: asyncio.Future[tuple[int, str | None]] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._status = 0
        self._retry_after: str | None = None
        self._framed = False  # the answer has a Content-Length or is chunked
        self._head_done = False
        self._received = 0  # bytes of the answer's body
        self._any_byte = False
        self._stray = False  # the server sent more than the answer to our request
        self._last = 0.0  # when a byte last moved, either way
        self._buffered = 0  # bytes of the request the transport still held at the last check
        self._deadline = 0.0

    # asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self._answer is None:  # nothing asked: a server talking out of turn
            self.abort()
            return
        self._any_byte = True
        self._last = self._loop.time()
        try:
            self._parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade):  # 101: not asked for
            self._fail(WireError(INVALID_HEAD))  # as aiohttp named it, in the head or a chunk
            return
        if self._stray:  # bytes past the answer: what comes next on it is not ours to read
            self.abort()
            return
        if self._received > self._client.body_limit and self._answer is not None:
            self._finish(reusable=False)  # enough read: the rest is not wanted

    def eof_received(self) -> bool:
        return False  # the transport closes itself; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._client._forget(self)
        if not self.lost.done():
            self.lost.set_result(None)
        if self._answer is None:
            return
        if self._head_done and not self._framed:
            self._finish(reusable=False)  # a body delimited by the end of the connection
        elif not self._any_byte:
            self._fail(_Resendable(CLOSED if exc is None else RESET))
        elif self._head_done:
            self._fail(WireError(INVALID_BODY))
        else:
            self._fail(WireError(CLOSED if exc is None else RESET))

    # httptools callbacks ---------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self._answer is None:  # a second answer to one request, in the same read
            self._stray = True

    def on_header(self, name: bytes, value: bytes) -> None:
        lowered = name.lower()
        if lowered == b"content-length" or lowered == b"transfer-encoding":
            self._framed = True
        elif lowered == b"retry-after":
            self._retry_after = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self._status = int(self._parser.get_status_code())
        if self._status >= 200:
            self._head_done = True
            if self._status in (204, 304):
                self._framed = True

    def on_body(self, body: bytes) -> None:
        self._received += len(body)

    def on_message_complete(self) -> None:
        if self._status < 200:  # 100 Continue and the like: the answer is still to come
            self._framed = False
            self._retry_after = None
            return
        if self._answer is not None:
            within = self._received <= self._client.body_limit
            self._finish(reusable=within and self._parser.should_keep_alive())

    # One request -----------------------------------------------------------------------

    async def request(self, payload: bytes, deadline: float) -> tuple[int, str | None]:
        if self.closed or self.transport is None:  # closed by the server since it was made
            raise _Resendable(CLOSED)
        loop = self._loop
        answer: asyncio.Future[tuple[int, str | None]] = loop.create_future()
        self._answer = answer
        self._status = self._received = 0
        self._retry_after = None
        self._framed = self._head_done = self._any_byte = False
        self._deadline = deadline
        self._last = loop.time()
        self._buffered = 0
        self._timer = loop.call_at(min(self._last + self._client.timeout, deadline), self._check)
        self.transport.write(payload)
        try:
            return await answer
        except asyncio.CancelledError:
            self._answer = None
            self._stop_timer()
            self.abort()
            raise

    def _check(self) -> None:
        """The request's timer: fires when no byte moved for `timeout`, or at the deadline."""
        self._timer = None
        if self._answer is None or self.transport is None:
            return
        now = self._loop.time()
        buffered = self.transport.get_write_buffer_size()
        if buffered and buffered != self._buffered:  # the request is still leaving: progress
            self._buffered = buffered
            self._last = now
        timeout = self._client.timeout
        if now >= self._deadline or now - self._last >= timeout:
            self._fail(TimeoutError())
            return
        self._timer = self._loop.call_at(min(self._last + timeout, self._deadline), self._check)

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _finish(self, *, reusable: bool) -> None:
        answer, self._answer = self._answer, None
        self._stop_timer()
        if answer is not None and not answer.done():
            answer.set_result((self._status, self._retry_after))
        if reusable and not self.closed:
            self._client._release(self)
        else:
            self.abort()

    def _fail(self, error: BaseException) -> None:
        answer, self._answer = self._answer, None
        self._stop_timer()
        self.abort()
        if answer is not None and not answer.done():
            answer.set_exception(error)

    def abort(self) -> None:
        if self.transport is not None and not self.closed:
            self.closed = True
            self.transport.abort()


class WireClient:
    """Keep-alive pools per origin, `connections` open at most over all of them."""

    def __init__(
        self,
        *,
        timeout: float,
        total: float,
        connections: int,
        keepalive: float,
        body_limit: int,
        guarded: bool,
        dns_ttl: float = DNS_TTL,
        tls: ssl.SSLContext | None = None,  # None: the default context (system CAs)
    ) -> None:
        self.timeout = timeout
        self.total = total
        self.body_limit = body_limit
        self._limit = connections
        self._keepalive = keepalive
        self._guarded = guarded
        self._dns_ttl = dns_ttl
        self._idle: dict[Origin, deque[_Connection]] = {}
        self._all: set[_Connection] = set()
        self._opening = 0  # connections being made: they count against the limit too
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._dns: dict[tuple[str, int], tuple[float, list[tuple[Any, ...]]]] = {}
        self._ssl = tls
        self._sweeper: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop = None  # type: ignore[assignment]
        self._open = False

    async def start(self) -> None:
        if self._open:
            return
        self._loop = asyncio.get_running_loop()
        self._open = True
        self._sweeper = self._loop.call_later(self._sweep_every(), self._sweep)

    async def close(self) -> None:
        """Close every connection, idle or busy, and wait until the transports are gone."""
        if not self._open:
            return
        self._open = False
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(WireError("the client is closed"))
        self._waiters.clear()
        connections = list(self._all)
        for connection in connections:
            connection._fail(WireError("the client is closed"))
        if connections:
            await asyncio.wait([c.lost for c in connections], timeout=self.timeout)
        self._idle.clear()
        self._all.clear()
        self._dns.clear()

    async def post(self, origin: Origin, payload: bytes) -> tuple[int, str | None]:
        """Send one pre-encoded request; its status and Retry-After header."""
        if not self._open:
            raise WireError("the client is closed")
        deadline = self._loop.time() + self.total
        connection = self._idle_connection(origin) or await self._new_connection(origin, deadline)
        try:
            return await connection.request(payload, deadline)
        except _Resendable:
            if not connection.reused:
                raise
        # A keep-alive connection the server had closed before our request reached it: sent
        # once more on a fresh connection. The receiver may have got the first one after all;
        # it dedupes on webhook-id (the event id), as it must for any retried delivery.
        connection = await self._new_connection(origin, deadline)
        return await connection.request(payload, deadline)

    # The pool ---------------------------------------------------------------------------

    def _idle_connection(self, origin: Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        if not idle:
            return None
        stale_before = self._loop.time() - self._keepalive
        while idle:
            connection = idle.pop()  # the most recently used: the least likely to be closed
            if not connection.closed and connection.idle_since > stale_before:
                connection.reused = True
                return connection
            connection.abort()
        return None

    async def _new_connection(self, origin: Origin, deadline: float) -> _Connection:
        connect_by = min(self._loop.time() + self.timeout, deadline)
        async with asyncio.timeout_at(connect_by):
            while len(self._all) + self._opening >= self._limit:
                if not self._close_an_idle_one():
                    waiter = self._loop.create_future()
                    self._waiters.append(waiter)
                    try:
                        await waiter
                    except BaseException:
                        if waiter.done() and not waiter.cancelled():
                            self._wake()  # woken, then cancelled or timed out: pass it on
                        else:
                            waiter.cancel()
                        raise
                    if (found := self._idle_connection(origin)) is not None:
                        return found
            self._opening += 1
            try:
                connection = await self._connect(origin)
            finally:
                self._opening -= 1
                self._wake()
        if not connection.closed:  # else its slot was never taken: request() will say why
            self._all.add(connection)
        return connection

    def _close_an_idle_one(self) -> bool:
        """Make room by closing the longest idle connection of any origin."""
        oldest: _Connection | None = None
        for idle in self._idle.values():
            if idle and (oldest is None or idle[0].idle_since < oldest.idle_since):
                oldest = idle[0]
        if oldest is None:
            return False
        self._idle[oldest.origin].popleft()
        oldest.abort()
        self._all.discard(oldest)  # its slot is free now, before connection_lost is called
        return True

    def _release(self, connection: _Connection) -> None:
        if not self._open:
            connection.abort()
            return
        connection.idle_since = self._loop.time()
        self._idle.setdefault(connection.origin, deque()).append(connection)
        self._wake()

    def _forget(self, connection: _Connection) -> None:
        """A connection is gone: it leaves its pool and frees its slot."""
        if connection in self._all:
            self._all.discard(connection)
            idle = self._idle.get(connection.origin)
            if idle and connection in idle:
                idle.remove(connection)
            self._wake()

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _sweep_every(self) -> float:
        return max(self._keepalive / 4, 0.05)

    @property
    def remembered(self) -> int:
        """Origins with idle connections and host names with resolved addresses held: what
        the client keeps between requests, bounded by the destinations in recent use."""
        return len(self._idle) + len(self._dns)

    def _sweep(self) -> None:
        """Close connections idle for longer than `keepalive`; forget origins left without
        any, and resolved addresses past their TTL (destinations come and go)."""
        now = self._loop.time()
        stale_before = now - self._keepalive
        for origin, idle in list(self._idle.items()):
            while idle and idle[0].idle_since <= stale_before:
                idle.popleft().abort()
            if not idle:
                del self._idle[origin]
        for key in [key for key, (expires, _) in self._dns.items() if expires <= now]:
            del self._dns[key]
        self._sweeper = self._loop.call_later(self._sweep_every(), self._sweep)

    # Connecting -------------------------------------------------------------------------

    async def _connect(self, origin: Origin) -> _Connection:
        addresses = await self._addresses(origin)
        if self._guarded and (blocked := resolved_block(a[4][0] for a in addresses)):
            raise WireError(blocked)
        tls: ssl.SSLContext | None = None
        if origin.tls:
            if self._ssl is None:
                self._ssl = ssl.create_default_context()
            tls = self._ssl
        error: OSError | None = None
        for family, _, proto, _, address in addresses:
            try:
                _, connection = await self._loop.create_connection(
                    lambda: _Connection(self, origin),
                    host=address[0],
                    port=address[1],
                    family=family,
                    proto=proto,
                    ssl=tls,
                    server_hostname=origin.host if tls else None,
                    ssl_handshake_timeout=self.timeout if tls else None,
                )
                return connection
            except (OSError, ssl.SSLError) as failed:
                error = failed
        assert error is not None
        raise WireError(_cannot_connect(error)) from error

    async def _addresses(self, origin: Origin) -> list[tuple[Any, ...]]:
        literal = literal_address(origin.host)
        if literal is not None:
            family = socket.AF_INET6 if ":" in literal else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 0, "", (literal, origin.port))]
        key = (origin.host, origin.port)
        now = self._loop.time()
        cached = self._dns.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            found = await self._loop.getaddrinfo(
                origin.host, origin.port, type=socket.SOCK_STREAM, flags=socket.AI_ADDRCONFIG
            )
        except OSError as error:
            raise WireError(_cannot_connect(error)) from error
        if not found:
            raise WireError("cannot connect: no address")
        addresses = [(f, t, p, "", a[:2] if f == socket.AF_INET else a) for f, t, p, _, a in found]
        self._dns[key] = (now + self._dns_ttl, addresses)
        return addresses


def _cannot_connect(error: BaseException) -> str:
    if isinstance(error, ssl.SSLError):
        return f"cannot connect: {error.reason or type(error).__name__}"
    reason = None
    if isinstance(error, OSError):
        # The errno's own words: asyncio's text ("Connect call failed ('10.0.0.1', 443)")
        # would put the destination's address into delivery logs.
        gai = isinstance(error, socket.gaierror)
        reason = os.strerror(error.errno) if error.errno and not gai else error.strerror
    return f"cannot connect: {reason or type(error).__name__}"
