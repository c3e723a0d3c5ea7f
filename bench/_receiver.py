"""The benchmark's receiver, run in a process of its own: answers 200 at once, counts event
ids, measures latency from an event's created_at to its arrival, and holds a blackhole port.

It stands in for a SIEM on another host, so it should take as little of this machine's CPU
as it can: an asyncio protocol over httptools (the C parser uvicorn uses) costs a fraction of
a full web framework per request, which leaves the cores to the sender being measured.
"""

from __future__ import annotations

import asyncio
import re
import time
from datetime import datetime
from multiprocessing.connection import Connection
from typing import cast
from urllib.parse import parse_qs

import httptools
import orjson

MAX_LATENCIES = 200_000  # samples kept
OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
HEC_PATH = b"/services/collector/event"
HEC_OK = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n"
    b'{"text":"Success","code":0}'
)
ENVELOPE = b'{"time":'  # how each of HEC's stacked envelopes starts
# The event's id, first in its body, right after the envelope's fields (which are strings,
# so that a quote inside them is escaped and cannot end one early).
HEC_EVENT_ID = re.compile(rb'"event":\{"id":(\d+)[,}]')
# The event's own created_at: the body's last key of that name (details come before it, and
# the keys after it hold strings or numbers, in which `,"created_at":"` cannot occur).
CREATED_AT = b',"created_at":"'


class Counts:
    def __init__(self) -> None:
        self.requests = 0
        self.events = 0  # events received, each time it arrived: more than ids if repeated
        self.ids: set[int] = set()
        self.latencies: list[float] = []
        self.measure = False
        self.changed = asyncio.Event()

    def count(self, raw: bytes) -> None:
        self.requests += 1
        self.changed.set()
        if self.measure:
            arrived = time.time()
            body = orjson.loads(raw)
            self.ids.add(int(body["id"]))
            if len(self.latencies) < MAX_LATENCIES:
                self.latencies.append(arrived - _created_at(body))

    def count_hec(self, raw: bytes) -> None:
        """A HEC request: stacked envelopes, each with the event under "event". Read by
        finding bytes rather than parsing every envelope, so that the receiver takes little
        of the CPU the sender is measured on: each envelope's id and created_at."""
        self.requests += 1
        self.changed.set()
        if self.measure:
            arrived = time.time()
            envelopes = raw.split(ENVELOPE)[1:]
            ids = HEC_EVENT_ID.findall(raw)
            if len(ids) != len(envelopes):
                raise ValueError(f"{len(envelopes)} envelopes but {len(ids)} event ids")
            self.events += len(ids)
            self.ids.update(map(int, ids))
            for envelope in envelopes[: max(0, MAX_LATENCIES - len(self.latencies))]:
                at = envelope.rfind(CREATED_AT) + len(CREATED_AT)
                created = datetime.fromisoformat(envelope[at : at + 24].decode()).timestamp()
                self.latencies.append(arrived - created)

    def reset(self, measure: bool) -> None:
        self.requests = 0
        self.events = 0
        self.ids.clear()
        self.latencies.clear()
        self.measure = measure

    async def wait(self, key: str, count: int, within: float) -> bytes:
        """Once `key` (requests or ids) reaches `count`: the wall-clock time."""
        async with asyncio.timeout(within):
            while (self.requests if key == "requests" else len(self.ids)) < count:
                self.changed.clear()
                await self.changed.wait()
        return repr(time.time()).encode()


def _created_at(body: dict[str, object]) -> float:
    return datetime.fromisoformat(str(body["created_at"])).timestamp()


def _answer(body: bytes, status: str = "200 OK", content_type: bytes = b"text/plain") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\nContent-Type: ".encode()
    return head + content_type + b"\r\n\r\n" + body


class Receiver(asyncio.Protocol):
    """One connection: any POST to /hook/... is counted and answered `200 ok`; a few control
    paths (/reset, /stats, /latencies, /wait) serve the benchmark itself."""

    def __init__(self, counts: Counts) -> None:
        self.counts = counts
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.WriteTransport | None = None
        self.url = b""
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.WriteTransport, transport)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            assert self.transport is not None
            self.transport.write(_answer(b"bad request", "400 Bad Request"))
            self.transport.close()

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        url, body = self.url, b"".join(self.body)
        self.url, self.body = b"", []
        assert self.transport is not None
        if url.startswith(b"/hook/"):
            self.counts.count(body)
            self.transport.write(OK)
            return
        if url.startswith(HEC_PATH):
            self.counts.count_hec(body)
            self.transport.write(HEC_OK)
            return
        parsed = httptools.parse_url(url)
        query = {k: v[0] for k, v in parse_qs((parsed.query or b"").decode()).items()}
        path = parsed.path
        if path == b"/reset":
            self.counts.reset(query.get("measure") == "1")
            self.transport.write(OK)
        elif path == b"/stats":
            payload = {
                "requests": self.counts.requests,
                "ids": len(self.counts.ids),
                "events": self.counts.events,
                "cpu": time.process_time(),  # this process's CPU seconds so far
            }
            self.transport.write(_answer(orjson.dumps(payload), content_type=b"application/json"))
        elif path == b"/latencies":
            payload = orjson.dumps(self.counts.latencies)
            self.transport.write(_answer(payload, content_type=b"application/json"))
        elif path == b"/wait":
            # Answered later; the client sends nothing else on this connection meanwhile.
            waiting = self.counts.wait(
                query["key"], int(query["count"]), float(query.get("within", "300"))
            )
            task = asyncio.ensure_future(waiting)
            task.add_done_callback(self._waited)
        else:
            self.transport.write(_answer(b"not found", "404 Not Found"))

    def _waited(self, task: asyncio.Future[bytes]) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        if task.cancelled() or task.exception() is not None:
            self.transport.write(_answer(b"timed out", "504 Gateway Timeout"))
        else:
            self.transport.write(_answer(task.result()))


async def main(pipe: Connection) -> None:
    counts = Counts()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Receiver(counts), "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]

    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # accept, never answer

    blackhole = await asyncio.start_server(hold, "127.0.0.1", 0)
    pipe.send((port, blackhole.sockets[0].getsockname()[1]))
    await loop.run_in_executor(None, pipe.recv)  # any message: stop
    blackhole.close()
    server.close()


def run(pipe: Connection) -> None:
    try:
        import uvloop

        uvloop.run(main(pipe))
    except ImportError:
        asyncio.run(main(pipe))
