"""Batched HTTP: many events per POST as a JSON array (GitLab's batched shape) or NDJSON,
with the destination's token and custom headers and a Standard Webhooks signature over the
whole body, like the per-event HTTP path."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from auditwire.domain.retry import STATUS_GONE
from auditwire.domain.signing import sign
from auditwire.domain.signing import signing_key as derive_signing_key
from auditwire.streaming.sinks._answers import optional_url, retry_answer
from auditwire.streaming.sinks._client import ClientSink
from auditwire.streaming.sinks.base import Answer, BatchAnswer, BatchLimits, Outgoing, Verdict
from auditwire.streaming.sinks.batching import (
    DEFAULT_LIMITS,
    PartAnswer,
    batch_limits,
    cut,
    part_answered,
    send_in_parts,
)

TOKEN_HEADER = "X-Gitlab-Event-Streaming-Token"
SIGNING_SECRET_KEY = "signingSecret"  # the prepared config's signing secret (see http.py)
PER_EVENT = "event"  # the default format: one event per POST, the per-event path's
# Batched formats and their Content-Type. Like GitLab's batched HTTP streaming, a batch
# carries no X-Gitlab-Audit-Event-Type header: each element names its own event_type.
CONTENT_TYPES = {"json_array": "application/json", "ndjson": "application/x-ndjson"}
HEADERS_MAX = 20  # custom headers per destination (GitLab's limit)
STATUS_TOO_LARGE = 413


@dataclass(frozen=True, slots=True)
class HttpBatchSettings:
    """The batched layout of an `http` config: its `format` and `batch` limits."""

    format: str
    limits: BatchLimits


def http_batch_settings(config: Mapping[str, Any]) -> HttpBatchSettings | None:
    """The rules of `config.format` (`event`, the default, or `json_array` or `ndjson`) and
    `config.batch` (`{maxEvents ≤ 1000, maxBytes ≤ 5 MiB, maxWaitMs}`); None for `event`,
    which the per-event path sends. Raises ValueError with a readable reason."""
    layout = config.get("format", PER_EVENT)
    if layout == PER_EVENT:
        if "batch" in config:
            raise ValueError('config batch needs config format "json_array" or "ndjson"')
        return None
    if layout not in CONTENT_TYPES:
        raise ValueError('config format must be "event", "json_array" or "ndjson"')
    return HttpBatchSettings(layout, batch_limits(config, ceiling=DEFAULT_LIMITS))


@dataclass(frozen=True, slots=True)
class HttpBatchTarget:
    """Where and how to post batches. Holds the token and signing key: its repr shows none.

    `headers` are the destination's own, as the per-event path prepares them (the token
    header and the active custom headers); a custom Content-Type wins over the format's.
    """

    url: str
    settings: HttpBatchSettings
    headers: Mapping[str, str] = field(repr=False)
    signing_key: bytes = field(repr=False)


def http_batch_target(
    url: str, headers: Mapping[str, str], signing_key: bytes, settings: HttpBatchSettings
) -> HttpBatchTarget:
    """A target from what the HTTP kind has already prepared (its URL, headers and key)."""
    merged = {"Content-Type": CONTENT_TYPES[settings.format]}
    for key, value in headers.items():
        # The destination's headers replace a default of the same name in any case.
        for known in [k for k in merged if k.lower() == key.lower()]:
            del merged[known]
        merged[key] = value
    return HttpBatchTarget(url, settings, merged, signing_key)


def batch_body(layout: str, bodies: Sequence[bytes]) -> bytes:
    """The bodies as one JSON array or as NDJSON (one event per line, each line ended)."""
    if layout == "ndjson":
        return b"".join(body + b"\n" for body in bodies)
    return b"[" + b",".join(bodies) + b"]"


class HttpBatchSink(ClientSink):
    """Posts batches of events to an HTTP destination in its batched format."""

    category: ClassVar[str] = "http"

    def prepare(
        self, config: Mapping[str, Any], secret: str, signing_key: bytes | None = None
    ) -> HttpBatchTarget:
        """A target from an `http` config (`url`, `headers`, `format`, `batch`), the
        verification token as `secret` and the destination's Standard Webhooks key (by
        default derived from the prepared config's signing secret, as the per-event sink)."""
        if signing_key is None and config.get(SIGNING_SECRET_KEY):
            signing_key = derive_signing_key(str(config[SIGNING_SECRET_KEY]))
        settings = http_batch_settings(config)
        if settings is None:
            raise ValueError('config format "event" is sent one event per request')
        url = optional_url({"url": config.get("url")}, "url")
        if url is None:
            raise ValueError("config url is required")
        if not secret:
            raise ValueError("the verification token is required")
        if not signing_key:
            raise ValueError("the signing key is required")
        headers = {**_custom_headers(config.get("headers")), TOKEN_HEADER: secret}
        return http_batch_target(url, headers, signing_key, settings)

    def limits(self, target: HttpBatchTarget) -> BatchLimits:
        return target.settings.limits

    async def send_batch(self, target: HttpBatchTarget, items: Sequence[Outgoing]) -> BatchAnswer:
        limits = target.settings.limits
        parts = cut(
            [len(item.body) + 1 for item in items],
            max_events=limits.max_events,
            max_bytes=limits.max_bytes,
        )

        async def attempt(part: Sequence[int]) -> PartAnswer:
            chosen = [items[index] for index in part]
            return await part_answered(self._post(target, chosen))

        return await send_in_parts(parts, attempt)

    async def _post(self, target: HttpBatchTarget, items: Sequence[Outgoing]) -> PartAnswer:
        body = batch_body(target.settings.format, [item.body for item in items])
        message_id = f"{items[0].event_id}-{items[-1].event_id}"
        timestamp = int(time.time())
        headers = {
            **target.headers,
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(target.signing_key, message_id, timestamp, body),
        }
        reply = await self._client.request("POST", target.url, headers=headers, body=body)
        if 200 <= reply.status < 300:
            return PartAnswer(Answer(Verdict.DELIVERED, status=reply.status))
        if reply.status == STATUS_GONE:
            return PartAnswer(Answer(Verdict.GONE, status=reply.status, detail="HTTP 410"))
        if reply.status == STATUS_TOO_LARGE:
            refused = Answer(Verdict.REFUSED, reply.status, "HTTP 413")
            return PartAnswer(refused, split=True)
        return PartAnswer(retry_answer(reply.status, reply.headers, None))


def _custom_headers(value: object) -> dict[str, str]:
    """GitLab's `config.headers` (`{name: {value, active}}`): the active ones."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or len(value) > HEADERS_MAX:
        raise ValueError(f"config headers must be an object of at most {HEADERS_MAX} headers")
    active: dict[str, str] = {}
    for name, header in value.items():
        if not isinstance(header, Mapping) or not isinstance(header.get("value"), str):
            raise ValueError(f"config headers.{name} must be an object with a value")
        if name.lower() == TOKEN_HEADER.lower():
            raise ValueError(f"config headers cannot be {TOKEN_HEADER}")
        if header.get("active", True) is True:
            active[name] = header["value"]
    return active
