"""Destination kinds behind one seam: per event (`base.Sink`: HTTP, Amazon S3, Google Cloud
Logging) and in batches (`base.BatchSink`: Splunk HEC, Datadog, batched HTTP, batched S3),
and the registries that map a category to the factory of its sink. Adding a kind: a module
here, its config rules in `domain/categories.py`, and one entry in `SINKS` or `BATCH_SINKS`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from auditwire.streaming.sinks.base import (
    Answer,
    BatchAnswer,
    BatchLimits,
    BatchSink,
    Outgoing,
    Sink,
    Verdict,
)
from auditwire.streaming.sinks.datadog import DatadogSink, DatadogTarget
from auditwire.streaming.sinks.gcp import GcpSink, GcpTarget
from auditwire.streaming.sinks.http import HttpSink, HttpTarget
from auditwire.streaming.sinks.http_batch import HttpBatchSink, HttpBatchTarget
from auditwire.streaming.sinks.s3 import S3Sink, S3Target
from auditwire.streaming.sinks.s3_batch import S3BatchSink, S3BatchTarget
from auditwire.streaming.sinks.splunk import SplunkSink, SplunkTarget


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


def _client_kwargs(s: SinkSettings) -> dict[str, Any]:
    return {
        "timeout": s.timeout,
        "connections": s.connections,
        "allow_local_requests": s.allow_local_requests,
    }


SINKS: dict[str, Callable[[SinkSettings], Sink[Any]]] = {
    HttpSink.category: _http,
    S3Sink.category: _aws,
    GcpSink.category: _gcp,
}

# Kinds (or batched layouts of a kind) that send many events per request. A destination
# uses its category's batch sink when `domain.categories.batched(category, config)` says so.
BATCH_SINKS: dict[str, Callable[[SinkSettings], BatchSink[Any]]] = {
    SplunkSink.category: lambda s: SplunkSink(**_client_kwargs(s)),
    DatadogSink.category: lambda s: DatadogSink(**_client_kwargs(s)),
    HttpBatchSink.category: lambda s: HttpBatchSink(**_client_kwargs(s)),
    S3BatchSink.category: lambda s: S3BatchSink(
        endpoint_url=s.s3_endpoint_url or None, **_client_kwargs(s)
    ),
}


class SinkSet:
    """One started sink per category (and per layout: per event or batched), made on first
    use and closed together. `sinks` and `batch_sinks` replace the registries (tests)."""

    def __init__(
        self,
        settings: SinkSettings,
        *,
        sinks: dict[str, Callable[[SinkSettings], Sink[Any]]] | None = None,
        batch_sinks: dict[str, Callable[[SinkSettings], BatchSink[Any]]] | None = None,
    ) -> None:
        self._settings = settings
        self._registry = SINKS if sinks is None else sinks
        self._batch_registry = BATCH_SINKS if batch_sinks is None else batch_sinks
        self._sinks: dict[str, Sink[Any]] = {}
        self._batch_sinks: dict[str, BatchSink[Any]] = {}
        self._started = False

    def sink(self, category: str) -> Sink[Any]:
        """The per-event sink of `category`; ValueError for a category no sink serves."""
        found = self._sinks.get(category)
        if found is None:
            factory = self._registry.get(category)
            if factory is None:
                raise ValueError(f"no sink for category {category!r}")
            found = self._sinks[category] = factory(self._settings)
        return found

    def batch_sink(self, category: str) -> BatchSink[Any]:
        """The batch sink of `category`; ValueError for a category with no batched layout."""
        found = self._batch_sinks.get(category)
        if found is None:
            factory = self._batch_registry.get(category)
            if factory is None:
                raise ValueError(f"no batch sink for category {category!r}")
            found = self._batch_sinks[category] = factory(self._settings)
        return found

    def _all(self) -> list[Sink[Any] | BatchSink[Any]]:
        return [*self._sinks.values(), *self._batch_sinks.values()]

    async def start(self) -> None:
        self._started = True
        for sink in self._all():
            await sink.start()

    async def ensure_started(self, category: str) -> Sink[Any]:
        sink = self.sink(category)
        if self._started:
            await sink.start()  # idempotent in every sink
        return sink

    async def ensure_batch_started(self, category: str) -> BatchSink[Any]:
        sink = self.batch_sink(category)
        if self._started:
            await sink.start()
        return sink

    async def close(self) -> None:
        for sink in self._all():
            await sink.close()
        self._started = False


__all__ = [
    "BATCH_SINKS",
    "SINKS",
    "Answer",
    "BatchAnswer",
    "BatchLimits",
    "BatchSink",
    "DatadogSink",
    "DatadogTarget",
    "GcpSink",
    "GcpTarget",
    "HttpBatchSink",
    "HttpBatchTarget",
    "HttpSink",
    "HttpTarget",
    "Outgoing",
    "S3BatchSink",
    "S3BatchTarget",
    "S3Sink",
    "S3Target",
    "Sink",
    "SinkSet",
    "SinkSettings",
    "SplunkSink",
    "SplunkTarget",
    "Verdict",
]
