"""Splunk's HTTP Event Collector: many events per POST as stacked envelopes, the bad event
of a batch isolated by splitting, and optional indexer acknowledgement."""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import orjson

from auditwire.streaming.sinks._answers import (
    json_object,
    optional_flag,
    optional_text,
    optional_url,
    retry_answer,
)
from auditwire.streaming.sinks._client import CONNECTIONS, TIMEOUT, ClientSink, Reply
from auditwire.streaming.sinks.base import Answer, BatchAnswer, BatchLimits, Outgoing, Verdict
from auditwire.streaming.sinks.batching import (
    DEFAULT_LIMITS,
    PartAnswer,
    batch_limits,
    cut,
    part_answered,
    send_in_parts,
)

EVENT_PATH = "/services/collector/event"
ACK_PATH = "/services/collector/ack"
CHANNEL_HEADER = "X-Splunk-Request-Channel"
DEFAULT_SOURCETYPE = "gitlab:audit"
FIELD_MAX = 1024  # characters of index, source, sourcetype or host
ACK_INTERVAL = 1.0  # seconds between two acknowledgement polls
ACK_TIMEOUT = 60.0  # seconds a batch may wait for the indexer's acknowledgement
# HEC's answer codes that matter here (Splunk's "Troubleshoot HTTP Event Collector").
CODE_SUCCESS = 0
CODE_INVALID_FORMAT = 6
STATUS_OK = 200
STATUS_BAD_REQUEST = 400
STATUS_TOO_LARGE = 413


@dataclass(frozen=True, slots=True)
class SplunkSettings:
    """A `splunk` config, checked: the HEC base URL and the envelope's optional fields."""

    url: str
    index: str | None
    source: str | None
    sourcetype: str
    host: str | None
    ack: bool
    limits: BatchLimits


def splunk_settings(config: Mapping[str, Any]) -> SplunkSettings:
    """The rules of a `splunk` config: `url` (the HEC base, e.g. https://splunk:8088),
    optional `index`, `source`, `sourcetype` (default gitlab:audit), `host`, `ack` and
    `batch`. Raises ValueError with a readable reason."""
    unknown = sorted(set(config) - {"url", "index", "source", "sourcetype", "host", "ack", "batch"})
    if unknown:
        raise ValueError(f"config has unknown keys: {', '.join(unknown)}")
    url = optional_url(config, "url")
    if url is None:
        raise ValueError("config url is required")
    return SplunkSettings(
        url=url,
        index=optional_text(config, "index", limit=FIELD_MAX),
        source=optional_text(config, "source", limit=FIELD_MAX),
        sourcetype=optional_text(config, "sourcetype", limit=FIELD_MAX) or DEFAULT_SOURCETYPE,
        host=optional_text(config, "host", limit=FIELD_MAX),
        ack=optional_flag(config, "ack"),
        limits=batch_limits(config, ceiling=DEFAULT_LIMITS),
    )


@dataclass(frozen=True, slots=True)
class SplunkTarget:
    """A HEC endpoint and its token. Holds the token: its repr shows none."""

    settings: SplunkSettings
    event_url: str
    ack_url: str
    envelope: Mapping[str, str]  # the optional fields every envelope carries, in HEC's order
    token: str = field(repr=False)
    # What every envelope has between its time and its event: `,"host":…,"event":`.
    between: bytes = b',"event":'


def between_time_and_event(fields: Mapping[str, str]) -> bytes:
    """The encoded part of every envelope between `"time":…` and the event: the fields."""
    encoded = orjson.dumps(dict(fields))[1:-1]
    return (b"," + encoded if encoded else b"") + b',"event":'


def envelope(between: bytes, item: Outgoing) -> bytes:
    """One HEC envelope, `{"time":<epoch seconds with milliseconds>,<fields>,"event":…}`: the
    event as GitLab streams it embedded as it is (not re-encoded), the rest joined from
    parts encoded once per target (`between`), so that a batch costs no JSON encoding."""
    seconds, ms = divmod(item.time_ms, 1000)
    return b'{"time":%d.%03d%s%s}' % (seconds, ms, between, item.body)


class SplunkSink(ClientSink):
    """Sends batches to HEC. One request channel per sink (so per worker) for acknowledgement.

    `ack_interval` and `ack_timeout` bound the acknowledgement wait: at most `ack_polls`
    polls (by default ceil(timeout / interval)), then the batch is retried.
    """

    category: ClassVar[str] = "splunk"

    def __init__(
        self,
        *,
        timeout: float = TIMEOUT,
        connections: int = CONNECTIONS,
        allow_local_requests: bool = False,
        ack_interval: float = ACK_INTERVAL,
        ack_timeout: float = ACK_TIMEOUT,
        ack_polls: int | None = None,
    ) -> None:
        super().__init__(
            timeout=timeout, connections=connections, allow_local_requests=allow_local_requests
        )
        self.channel = str(uuid.uuid4())
        self._ack_interval = ack_interval
        if ack_polls is None:
            ack_polls = math.ceil(ack_timeout / ack_interval) if ack_interval > 0 else 1
        self._ack_polls = max(1, ack_polls)
        self._ack_timeout = ack_timeout

    def prepare(self, config: Mapping[str, Any], secret: str) -> SplunkTarget:
        settings = splunk_settings(config)
        if not secret:
            raise ValueError("the HEC token is required")
        if any(character.isspace() for character in secret):
            raise ValueError("the HEC token must not contain spaces")
        fields = {
            key: value
            for key, value in (
                ("host", settings.host),
                ("source", settings.source),
                ("sourcetype", settings.sourcetype),
                ("index", settings.index),
            )
            if value is not None
        }
        return SplunkTarget(
            settings,
            settings.url + EVENT_PATH,
            f"{settings.url}{ACK_PATH}?channel={self.channel}",
            fields,
            secret,
            between_time_and_event(fields),
        )

    def limits(self, target: SplunkTarget) -> BatchLimits:
        return target.settings.limits

    async def send_batch(self, target: SplunkTarget, items: Sequence[Outgoing]) -> BatchAnswer:
        between = target.between
        envelopes = [envelope(between, item) for item in items]
        limits = target.settings.limits
        parts = cut(
            [len(e) for e in envelopes], max_events=limits.max_events, max_bytes=limits.max_bytes
        )

        async def attempt(part: Sequence[int]) -> PartAnswer:
            body = b"".join(envelopes[index] for index in part)
            return await part_answered(self._post(target, body))

        return await send_in_parts(parts, attempt)

    def _headers(self, target: SplunkTarget) -> dict[str, str]:
        headers = {"Authorization": f"Splunk {target.token}", "Content-Type": "application/json"}
        if target.settings.ack:
            headers[CHANNEL_HEADER] = self.channel
        return headers

    async def _post(self, target: SplunkTarget, body: bytes) -> PartAnswer:
        reply = await self._client.request(
            "POST", target.event_url, headers=self._headers(target), body=body
        )
        answer = json_object(reply.body)
        code, text = answer.get("code"), answer.get("text")
        detail = hec_detail(code, text) or f"HTTP {reply.status}"
        if reply.status == STATUS_OK and code in (None, CODE_SUCCESS):
            if not target.settings.ack:
                return PartAnswer(Answer(Verdict.DELIVERED, status=reply.status))
            return PartAnswer(await self._acknowledged(target, reply, answer.get("ackId")))
        if reply.status == STATUS_BAD_REQUEST and code == CODE_INVALID_FORMAT:
            bad = answer.get("invalid-event-number")
            bad_index = bad if isinstance(bad, int) and not isinstance(bad, bool) else None
            return PartAnswer(Answer(Verdict.REFUSED, reply.status, detail), True, bad_index)
        if reply.status == STATUS_TOO_LARGE:
            return PartAnswer(Answer(Verdict.REFUSED, reply.status, detail), split=True)
        # 401 and 403 (token), other 400 codes (a missing index, a disabled channel), 503
        # (busy) and 5xx: the owner or time can fix them, so the batch is retried.
        return PartAnswer(retry_answer(reply.status, reply.headers, detail))

    async def _acknowledged(self, target: SplunkTarget, reply: Reply, ack_id: object) -> Answer:
        """Delivered once the indexer acknowledges `ack_id`; retried when it has not within
        the bounded polls. A token without acknowledgement gives no ackId: HEC has the
        events, so they count as delivered, and the detail says why no ack was awaited."""
        if not isinstance(ack_id, int) or isinstance(ack_id, bool):
            return Answer(
                Verdict.DELIVERED,
                status=reply.status,
                detail="no ackId: indexer acknowledgement is off for this token",
            )
        query = orjson.dumps({"acks": [ack_id]})
        for poll in range(self._ack_polls):
            if poll or self._ack_interval:
                await asyncio.sleep(self._ack_interval)
            answer = await self._client.request(
                "POST", target.ack_url, headers=self._headers(target), body=query
            )
            if answer.status != STATUS_OK:
                found = json_object(answer.body)
                reason = hec_detail(found.get("code"), found.get("text"))
                return retry_answer(
                    answer.status, answer.headers, f"ack: {reason or f'HTTP {answer.status}'}"
                )
            acks = json_object(answer.body).get("acks")
            if isinstance(acks, dict) and acks.get(str(ack_id)) is True:
                return Answer(Verdict.DELIVERED, status=reply.status)
        return Answer(
            Verdict.RETRY,
            status=reply.status,
            detail=f"ackId {ack_id} not acknowledged by the indexer within"
            f" {self._ack_polls} polls ({self._ack_timeout:g} s)",
        )


def hec_detail(code: object, text: object) -> str | None:
    """HEC's reason, e.g. "Invalid data format (HEC code 6)", or None."""
    if isinstance(text, str) and text:
        return f"{text} (HEC code {code})" if isinstance(code, int) else text
    return f"HEC code {code}" if isinstance(code, int) else None
