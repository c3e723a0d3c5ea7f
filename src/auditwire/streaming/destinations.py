"""The worker's view of destinations: each one's sink and prepared target, decrypted and
prepared once, again only when its row changes. Nothing here knows which kind a
destination is: its category picks the sink (see `streaming.sinks`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from auditwire.crypto import SecretBox
from auditwire.domain.retry import Circuit
from auditwire.errors import StorageError
from auditwire.store.deliveries import StoredDestination
from auditwire.streaming.sinks import SinkSet
from auditwire.streaming.sinks.base import Sink
from auditwire.streaming.sinks.http import SIGNING_SECRET_KEY

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, repr=False)
class DestinationConfig:
    """What the worker needs for one destination. Its target holds secrets: no repr of them."""

    id: int
    group_id: int | None
    name: str
    category: str
    sink: Sink[Any]
    target: Any  # the sink's prepared target
    circuit: Circuit
    fingerprint: tuple[object, ...]

    def __repr__(self) -> str:
        return f"DestinationConfig(id={self.id}, name={self.name!r}, category={self.category!r})"


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
    sink = await sinks.ensure_started(stored.category)
    target = sink.prepare(prepared_config(stored, box), box.decrypt(stored.secret_token))
    return DestinationConfig(
        id=stored.id,
        group_id=stored.group_id,
        name=stored.name,
        category=stored.category,
        sink=sink,
        target=target,
        circuit=stored.circuit,
        fingerprint=_fingerprint(stored),
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
