"""The worker's view of destinations: decrypted once, refreshed when their rows change."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from auditwire import __version__
from auditwire.crypto import SecretBox
from auditwire.domain.retry import Circuit
from auditwire.domain.signing import signing_key
from auditwire.errors import StorageError
from auditwire.store.deliveries import StoredDestination
from auditwire.streaming.guard import literal_block

TOKEN_HEADER = "X-Gitlab-Event-Streaming-Token"
EVENT_TYPE_HEADER = "X-Gitlab-Audit-Event-Type"
USER_AGENT = f"auditwire/{__version__}"

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, repr=False)
class DestinationConfig:
    """What a sender needs for one destination. Holds secrets: its repr shows none."""

    id: int
    group_id: int | None
    name: str
    url: URL
    headers: CIMultiDictProxy[str]  # every header that is the same for each event
    signing_key: bytes
    blocked: str | None  # why the URL's IP literal is refused, when it is
    circuit: Circuit
    fingerprint: tuple[object, ...]

    def __repr__(self) -> str:
        return f"DestinationConfig(id={self.id}, name={self.name!r})"


def build_config(
    stored: StoredDestination, box: SecretBox, *, allow_local: bool
) -> DestinationConfig:
    headers: CIMultiDict[str] = CIMultiDict()
    headers["Content-Type"] = "application/json"
    headers["User-Agent"] = USER_AGENT
    for key, sealed in stored.headers:  # a custom Content-Type (or User-Agent) wins
        headers[key] = box.decrypt(sealed)
    headers[TOKEN_HEADER] = box.decrypt(stored.secret_token)
    url = URL(str(stored.config.get("url", "")))
    return DestinationConfig(
        id=stored.id,
        group_id=stored.group_id,
        name=stored.name,
        url=url,
        headers=CIMultiDictProxy(headers),
        signing_key=signing_key(box.decrypt(stored.signing_secret)),
        blocked=None if allow_local else literal_block(url.host),
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
    """Active destinations by id; decrypts a destination again only when its row changed."""

    def __init__(self, box: SecretBox, *, allow_local: bool) -> None:
        self._box = box
        self._allow_local = allow_local
        self.by_id: dict[int, DestinationConfig] = {}

    def update(self, rows: list[StoredDestination]) -> None:
        fresh: dict[int, DestinationConfig] = {}
        for stored in rows:
            known = self.by_id.get(stored.id)
            if known is not None and known.fingerprint == _fingerprint(stored):
                fresh[stored.id] = replace(known, circuit=stored.circuit)
            else:
                try:
                    fresh[stored.id] = build_config(
                        stored, self._box, allow_local=self._allow_local
                    )
                except (StorageError, ValueError) as error:  # skip it, keep the others going
                    log.error("destination %s cannot be used: %s", stored.id, error)
        self.by_id = fresh

    def set_circuit(self, destination_id: int, circuit: Circuit) -> None:
        known = self.by_id.get(destination_id)
        if known is not None:
            self.by_id[destination_id] = replace(known, circuit=circuit)

    def drop(self, destination_id: int) -> None:
        self.by_id.pop(destination_id, None)
