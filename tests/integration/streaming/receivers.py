"""Real HTTP receivers on 127.0.0.1 (aiohttp.web) whose behaviour a test can change."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import orjson
from aiohttp import web
from multidict import CIMultiDictProxy

Behaviour = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def accept(_request: web.Request) -> web.StreamResponse:
    return web.Response(status=200, text="ok")


@dataclass
class Received:
    event_id: int
    headers: CIMultiDictProxy[str]
    body: bytes


@dataclass
class Receiver:
    """Counts every delivered event id (answered 2xx) and every request."""

    behaviour: Behaviour = accept
    url: str = ""
    requests: int = 0  # arrived
    answered: int = 0
    delivered: Counter[int] = field(default_factory=Counter)
    received: list[Received] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        self._changed.set()
        body = await request.read()
        response = await self.behaviour(request)
        if 200 <= response.status < 300:
            event_id = int(orjson.loads(body)["id"])
            self.delivered[event_id] += 1
            self.received.append(Received(event_id, request.headers, body))
        self.answered += 1
        self._changed.set()
        return response

    async def wait_for(self, ids: set[int], within: float = 15.0) -> None:
        """Until every id was delivered at least once (bounded by `within` seconds)."""
        async with asyncio.timeout(within):
            while not ids <= set(self.delivered):
                self._changed.clear()
                await self._changed.wait()

    async def wait_requests(self, count: int, within: float = 15.0) -> None:
        """Until `count` requests were answered, and counted in `received` when 2xx."""
        async with asyncio.timeout(within):
            while self.answered < count:
                self._changed.clear()
                await self._changed.wait()

    async def wait_arrivals(self, count: int, within: float = 15.0) -> None:
        """Until `count` requests arrived, answered or not (a behaviour may hold them)."""
        async with asyncio.timeout(within):
            while self.requests < count:
                self._changed.clear()
                await self._changed.wait()

    @property
    def duplicates(self) -> int:
        return sum(n - 1 for n in self.delivered.values())


@asynccontextmanager
async def serve(receiver: Receiver, port: int = 0) -> AsyncIterator[Receiver]:
    app = web.Application()
    app.router.add_post("/{tail:.*}", receiver.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    bound = runner.addresses[0][1]
    receiver.url = f"http://127.0.0.1:{bound}/hook"
    try:
        yield receiver
    finally:
        await runner.cleanup()
