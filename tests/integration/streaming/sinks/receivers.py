"""Loopback receivers that behave like Splunk's HTTP Event Collector and Datadog's logs
intake, keeping every event they accepted."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

ENVELOPE_KEYS = {"time", "host", "source", "sourcetype", "index", "event"}
Override = Callable[[web.Request], Awaitable[web.Response | None]]


def hec_answer(status: int, code: int, text: str, **extra: Any) -> web.Response:
    return web.json_response({"text": text, "code": code, **extra}, status=status)


def stacked(body: bytes) -> list[dict[str, Any]]:
    """HEC's body: JSON objects back to back, not an array."""
    decoder, text, position, found = json.JSONDecoder(), body.decode(), 0, []
    while position < len(text):
        value, position = decoder.raw_decode(text, position)
        found.append(value)
        while position < len(text) and text[position].isspace():
            position += 1
    return found


@dataclass
class Hec:
    token: str
    bad_ids: set[int] = field(default_factory=set)  # events HEC refuses as invalid data
    name_bad_event: bool = True  # answer code 6 with invalid-event-number
    ack_after: int | None = None  # polls before an ackId is acknowledged; None: never
    url: str = ""
    envelopes: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    channels: list[str | None] = field(default_factory=list)
    polls: dict[int, int] = field(default_factory=dict)
    on_event: Override | None = None

    async def event(self, request: web.Request) -> web.Response:
        self.requests += 1
        if request.headers.get("Authorization") != f"Splunk {self.token}":
            return hec_answer(403, 4, "Invalid token")
        if self.on_event is not None and (override := await self.on_event(request)) is not None:
            return override
        envelopes = stacked(await request.read())
        for number, envelope in enumerate(envelopes):
            assert set(envelope) <= ENVELOPE_KEYS and "event" in envelope, envelope
            if envelope["event"]["id"] in self.bad_ids:
                extra = {"invalid-event-number": number} if self.name_bad_event else {}
                return hec_answer(400, 6, "Invalid data format", **extra)
        self.envelopes.extend(envelopes)  # all or nothing, as one request
        channel = request.headers.get("X-Splunk-Request-Channel")
        self.channels.append(channel)
        if channel is None:
            return hec_answer(200, 0, "Success")
        ack_id = len(self.polls)
        self.polls[ack_id] = 0
        return hec_answer(200, 0, "Success", ackId=ack_id)

    async def ack(self, request: web.Request) -> web.Response:
        assert request.query["channel"] == request.headers["X-Splunk-Request-Channel"]
        acks = {}
        for ack_id in (await request.json())["acks"]:
            self.polls[ack_id] += 1
            acks[str(ack_id)] = self.ack_after is not None and self.polls[ack_id] >= self.ack_after
        return web.json_response({"acks": acks})


@dataclass
class Intake:
    api_key: str
    max_payload: int = 5 * 1024 * 1024  # bytes of the uncompressed array
    url: str = ""
    logs: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    too_large: int = 0
    on_post: Override | None = None

    async def post(self, request: web.Request) -> web.Response:
        self.requests += 1
        if request.headers.get("DD-API-KEY") != self.api_key:
            return web.json_response({"errors": ["Forbidden"]}, status=403)
        if self.on_post is not None and (override := await self.on_post(request)) is not None:
            return override
        assert request.headers["Content-Encoding"] == "gzip"
        assert request.content_type == "application/json"
        raw = gzip.decompress(await request.read())
        if len(raw) > self.max_payload:
            self.too_large += 1
            return web.json_response({"errors": ["Payload too large"]}, status=413)
        logs = json.loads(raw)
        assert isinstance(logs, list) and len(logs) <= 1000
        self.logs.extend(logs)
        return web.json_response({}, status=202)


@asynccontextmanager
async def serve(routes: list[tuple[str, Any]]) -> AsyncIterator[str]:
    """An aiohttp app on a free loopback port that leaves request bodies as sent."""
    app = web.Application()
    for path, handler in routes:
        app.router.add_post(path, handler)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5, auto_decompress=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def serve_hec(hec: Hec) -> AsyncIterator[Hec]:
    routes = [("/services/collector/event", hec.event), ("/services/collector/ack", hec.ack)]
    async with serve(routes) as url:
        hec.url = url
        yield hec


@asynccontextmanager
async def serve_intake(intake: Intake) -> AsyncIterator[Intake]:
    async with serve([("/api/v2/logs", intake.post)]) as url:
        intake.url = f"{url}/api/v2/logs"
        yield intake
