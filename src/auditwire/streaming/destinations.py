"""The worker's view of destinations: each one's sink and prepared target, decrypted and
prepared once, again only when its row changes. Nothing here knows which kind a
destination is: its category picks the sink (see `streaming.sinks`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from auditwire.crypto import SecretBox
from auditwire.domain.batch_rules import ALWAYS_BATCHED, batched
from auditwire.domain.delivery import OneEvent, StoredDestination
from auditwire.domain.events import AuditEvent, StreamedEvent, epoch_ms, utcnow
from auditwire.domain.retry import Circuit
from auditwire.errors import StorageError
from auditwire.streaming.sinks import SinkSet
from auditwire.streaming.sinks.base import Answer, BatchLimits, BatchSink, Sink
from auditwire.streaming.sinks.http import SIGNING_SECRET_KEY

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, repr=False)
class DestinationConfig:
    """What the worker needs for one destination. Its target holds secrets: no repr of them."""

    id: int
    group_id: int | None
    name: str
    category: str
    sink: Sink[Any]  # the per-event sink; for a batched destination, see `batch`
    target: Any  # the sink's prepared target
    circuit: Circuit
    fingerprint: tuple[object, ...]
    batch: BatchSink[Any] | None = None  # set when the destination sends batches
    limits: BatchLimits | None = None  # the batch sink's limits for this target

    def __repr__(self) -> str:
        return f"DestinationConfig(id={self.id}, name={self.name!r}, category={self.category!r})"


class BatchOfOne:
    """A batch sink as a per-event Sink: one event sent as a batch of one. What the test
    event and a lone probe of a batched destination use; the worker sends batches."""

    category: ClassVar[str] = "batch-of-one"  # the wrapped kind is `self.batch.category`

    def __init__(self, batch: BatchSink[Any]) -> None:
        self.batch = batch

    def prepare(self, config: Mapping[str, Any], secret: str) -> Any:
        return self.batch.prepare(config, secret)

    async def start(self) -> None:
        await self.batch.start()

    async def close(self) -> None:
        await self.batch.close()

    async def send(self, target: Any, event: OneEvent, body: bytes) -> Answer:
        # The test event is an AuditEvent; a claimed delivery of a batched destination goes
        # through its lane (`streaming.batches`) and never here, so its time is a fallback.
        moment = event.created_at if isinstance(event, AuditEvent) else utcnow()
        one = StreamedEvent(event.id, event.event_type, epoch_ms(moment), body)
        answer = await self.batch.send_batch(target, [one])
        return answer.answer_for(0)


def prepared_config(stored: StoredDestination, box: SecretBox) -> dict[str, Any]:
    """The config a sink prepares from: the stored config with the active headers and the
    signing secret, decrypted."""
    config: dict[str, Any] = dict(stored.config)
    if stored.headers:
        config["headers"] = {
            key: {"value": box.decrypt(sealed), "active": True} for key, sealed in stored.headers
        }
    config[SIGNING_SECRET_KEY] = box.decrypt(stored.signing_secret)
    return config


async def build_config(
    stored: StoredDestination, box: SecretBox, sinks: SinkSet
) -> DestinationConfig:
    """Prepare the destination's target with its kind's sink; ValueError when it cannot be."""
    config, secret = prepared_config(stored, box), box.decrypt(stored.secret_token)
    batch: BatchSink[Any] | None = None
    limits: BatchLimits | None = None
    if batched(stored.category, stored.config):
        batch = await sinks.ensure_batch_started(stored.category)
        if stored.category in ALWAYS_BATCHED:  # kinds of their own: no webhook signature
            config.pop(SIGNING_SECRET_KEY, None)
        target = batch.prepare(config, secret)
        sink: Sink[Any] = BatchOfOne(batch)
        limits = batch.limits(target)
    else:
        sink = await sinks.ensure_started(stored.category)
        target = sink.prepare(config, secret)
    return DestinationConfig(
        id=stored.id,
        group_id=stored.group_id,
        name=stored.name,
        category=stored.category,
        sink=sink,
        target=target,
        circuit=stored.circuit,
        fingerprint=_fingerprint(stored),
        batch=batch,
        limits=limits,
    )


def _fingerprint(stored: StoredDestination) -> tuple[object, ...]:
    # Ciphertexts change whenever a secret or header value is written, so comparing them
    # notices every change without decrypting anything.
    return (
        stored.category,
        stored.config,
        stored.secret_token,
        stored.signing_secret,
        stored.headers,
        stored.updated_at,
    )


class DestinationCache:
    """Active destinations by id; prepares a destination again only when its row changed."""

    def __init__(self, box: SecretBox, sinks: SinkSet) -> None:
        self._box = box
        self._sinks = sinks
        self.by_id: dict[int, DestinationConfig] = {}

    async def update(self, rows: list[StoredDestination]) -> None:
        fresh: dict[int, DestinationConfig] = {}
        for stored in rows:
            known = self.by_id.get(stored.id)
            if known is not None and known.fingerprint == _fingerprint(stored):
                fresh[stored.id] = replace(known, circuit=stored.circuit)
            else:
                try:
                    fresh[stored.id] = await build_config(stored, self._box, self._sinks)
                except (StorageError, ValueError) as error:  # skip it, keep the others going
                    log.error("destination %s cannot be used: %s", stored.id, error)
        self.by_id = fresh

    def set_circuit(self, destination_id: int, circuit: Circuit) -> None:
        known = self.by_id.get(destination_id)
        if known is not None:
            self.by_id[destination_id] = replace(known, circuit=circuit)

    def drop(self, destination_id: int) -> None:
        self.by_id.pop(destination_id, None)
