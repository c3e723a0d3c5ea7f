"""Destination kinds behind one seam (`base.Sink`), and the registry that maps a category to
the factory of its sink. Adding a kind: a module here, its config rules in
`domain/categories.py`, and one entry in `SINKS`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from auditwire.streaming.sinks.base import Answer, Sink, Verdict
from auditwire.streaming.sinks.gcp import GcpSink, GcpTarget
from auditwire.streaming.sinks.http import HttpSink, HttpTarget
from auditwire.streaming.sinks.s3 import S3Sink, S3Target


@dataclass(frozen=True, slots=True)
class SinkSettings:
    """What the composition root hands every sink factory."""

    timeout: float
    connections: int
    allow_local_requests: bool
    gcp_token_url: str
    gcp_logging_url: str
    s3_endpoint_url: str = ""  # empty: AWS itself


def _http(s: SinkSettings) -> Sink[Any]:
    return HttpSink(
        timeout=s.timeout, connections=s.connections, allow_local_requests=s.allow_local_requests
    )


def _aws(s: SinkSettings) -> Sink[Any]:
    return S3Sink(
        endpoint_url=s.s3_endpoint_url or None,
        timeout=s.timeout,
        connections=s.connections,
        allow_local_requests=s.allow_local_requests,
    )


def _gcp(s: SinkSettings) -> Sink[Any]:
    return GcpSink(
        token_url=s.gcp_token_url,
        logging_url=s.gcp_logging_url,
        timeout=s.timeout,
        connections=s.connections,
    )


SINKS: dict[str, Callable[[SinkSettings], Sink[Any]]] = {
    HttpSink.category: _http,
    S3Sink.category: _aws,
    GcpSink.category: _gcp,
}


class SinkSet:
    """One started sink per category, made on first use and closed together."""

    def __init__(self, settings: SinkSettings) -> None:
        self._settings = settings
        self._sinks: dict[str, Sink[Any]] = {}
        self._started = False

    def sink(self, category: str) -> Sink[Any]:
        """The sink of `category`; ValueError for a category no sink serves."""
        found = self._sinks.get(category)
        if found is None:
            factory = SINKS.get(category)
            if factory is None:
                raise ValueError(f"no sink for category {category!r}")
            found = self._sinks[category] = factory(self._settings)
        return found

    async def start(self) -> None:
        self._started = True
        for sink in self._sinks.values():
            await sink.start()

    async def ensure_started(self, category: str) -> Sink[Any]:
        sink = self.sink(category)
        if self._started:
            await sink.start()  # idempotent in every sink
        return sink

    async def close(self) -> None:
        for sink in self._sinks.values():
            await sink.close()
        self._started = False


__all__ = [
    "SINKS",
    "Answer",
    "GcpSink",
    "GcpTarget",
    "HttpSink",
    "HttpTarget",
    "S3Sink",
    "S3Target",
    "Sink",
    "SinkSet",
    "SinkSettings",
    "Verdict",
]
