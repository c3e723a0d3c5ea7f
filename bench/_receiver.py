"""The benchmark's receiver, run in a process of its own: answers 200 at once, counts event
ids, measures latency from an event's created_at to its arrival, and holds a blackhole port."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from multiprocessing.connection import Connection

import orjson
from aiohttp import web

MAX_LATENCIES = 200_000  # samples kept


class Counts:
    def __init__(self) -> None:
        self.requests = 0
        self.ids: set[int] = set()
        self.latencies: list[float] = []
        self.measure = False
        self.changed = asyncio.Event()


def _created_at(body: dict[str, object]) -> float:
    stamp = str(body["created_at"])
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


async def main(pipe: Connection) -> None:
    counts = Counts()

    async def hook(request: web.Request) -> web.Response:
        raw = await request.read()
        counts.requests += 1
        counts.changed.set()
        if counts.measure:
            arrived = time.time()
            body = orjson.loads(raw)
            counts.ids.add(int(body["id"]))
            if len(counts.latencies) < MAX_LATENCIES:
                counts.latencies.append(arrived - _created_at(body))
        return web.Response(text="ok")

    async def stats(_request: web.Request) -> web.Response:
        payload = {"requests": counts.requests, "ids": len(counts.ids)}
        return web.Response(body=orjson.dumps(payload), content_type="application/json")

    async def wait(request: web.Request) -> web.Response:
        """Answer once `key` (requests or ids) reaches `count`, with the wall-clock time."""
        key, count = request.query["key"], int(request.query["count"])
        async with asyncio.timeout(float(request.query.get("within", "300"))):
            while (counts.requests if key == "requests" else len(counts.ids)) < count:
                counts.changed.clear()
                await counts.changed.wait()
        return web.Response(text=repr(time.time()))

    async def latencies(_request: web.Request) -> web.Response:
        return web.Response(body=orjson.dumps(counts.latencies), content_type="application/json")

    async def reset(request: web.Request) -> web.Response:
        counts.requests = 0
        counts.ids.clear()
        counts.latencies.clear()
        counts.measure = request.query.get("measure") == "1"
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook/{n}", hook)
    app.router.add_get("/stats", stats)
    app.router.add_get("/latencies", latencies)
    app.router.add_get("/wait", wait)
    app.router.add_post("/reset", reset)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    port = runner.addresses[0][1]

    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # accept, never answer

    blackhole = await asyncio.start_server(hold, "127.0.0.1", 0)
    pipe.send((port, blackhole.sockets[0].getsockname()[1]))
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, pipe.recv)  # any message: stop
    blackhole.close()
    await runner.cleanup()


def run(pipe: Connection) -> None:
    try:
        import uvloop

        uvloop.run(main(pipe))
    except ImportError:
        asyncio.run(main(pipe))
