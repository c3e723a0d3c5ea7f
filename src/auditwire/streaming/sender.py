"""One HTTP POST per delivery over shared keep-alive connection pools (aiohttp)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from multidict import CIMultiDict

from auditwire.domain.signing import sign
from auditwire.streaming.destinations import EVENT_TYPE_HEADER, DestinationConfig
from auditwire.streaming.sinks._client import TIMEOUT, SinkClient, TransportError

__all__ = ["TIMEOUT", "Attempt", "Sender"]


@dataclass(frozen=True, slots=True)
class Attempt:
    """What happened to one POST: a status, or None with the error when no response came."""

    status: int | None
    retry_after: str | None = None
    error: str | None = None


class Sender:
    """Sends through one SinkClient for the worker's life: connections are pooled per
    destination host and reused, redirects are never followed, and every phase has a timeout."""

    def __init__(
        self,
        *,
        timeout: float = TIMEOUT,
        connections: int = 256,
        allow_local_requests: bool = False,
    ) -> None:
        self._client = SinkClient(
            timeout=timeout, connections=connections, allow_local_requests=allow_local_requests
        )
        self._started = False

    async def start(self) -> None:
        await self._client.start()
        self._started = True

    async def close(self) -> None:
        await self._client.close()
        self._started = False

    async def send(
        self, destination: DestinationConfig, event_id: int, event_type: str, body: bytes
    ) -> Attempt:
        """POST one event. Never raises for a network failure: it returns it as an Attempt."""
        if not self._started:
            raise RuntimeError("Sender.start() was not awaited")
        if destination.blocked is not None:
            return Attempt(None, error=destination.blocked)
        headers = CIMultiDict(destination.headers)
        headers[EVENT_TYPE_HEADER] = event_type
        message_id = str(event_id)
        timestamp = int(time.time())
        headers["webhook-id"] = message_id
        headers["webhook-timestamp"] = str(timestamp)
        headers["webhook-signature"] = sign(destination.signing_key, message_id, timestamp, body)
        try:
            reply = await self._client.request(
                "POST", str(destination.url), headers=headers, body=body
            )
        except TransportError as error:
            return Attempt(None, error=str(error))
        return Attempt(reply.status, reply.headers.get("Retry-After"))
