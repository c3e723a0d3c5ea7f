"""Datadog's logs intake: a gzip-compressed JSON array of up to 1,000 logs per POST, a batch
too large for one request split, and the intake's rate limits honoured."""

from __future__ import annotations

import gzip
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

import orjson
from multidict import CIMultiDictProxy

from auditwire.domain.retry import parse_retry_after
from auditwire.streaming.sinks._answers import (
    json_object,
    optional_text,
    optional_url,
)
from auditwire.streaming.sinks._client import ClientSink
from auditwire.streaming.sinks.base import (
    DEFAULT_WAIT_MS,
    Answer,
    BatchAnswer,
    BatchLimits,
    Outgoing,
    Verdict,
)
from auditwire.streaming.sinks.batching import (
    PartAnswer,
    batch_limits,
    cut,
    part_answered,
    send_in_parts,
)

INTAKE_PATH = "/api/v2/logs"
DEFAULT_SITE = "datadoghq.com"
DEFAULT_SOURCE = "gitlab"
SITE = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+")
SITE_MAX = 253  # characters of a host name
FIELD_MAX = 1024  # characters of service or ddsource
TAGS_MAX = 4096  # characters of ddtags
MAX_ENTRIES = 1000  # logs in one request (Datadog's limit)
MAX_PAYLOAD = 5 * 1024 * 1024  # bytes of the uncompressed array (Datadog's limit)
MAX_LOG = 1024 * 1024  # bytes of one log: Datadog would truncate a longer one
# Bytes of stream bodies gathered per request: a log carries its event as an escaped JSON
# string, a fifth or so longer than the event, so this keeps the array under MAX_PAYLOAD.
BODY_BUDGET = 4 * 1024 * 1024
GZIP_LEVEL = 1  # the fastest: JSON still shrinks several times, and the CPU is the hot path
STATUS_TOO_LARGE = 413
STATUS_TOO_MANY = 429
CEILING = BatchLimits(MAX_ENTRIES, BODY_BUDGET, DEFAULT_WAIT_MS)


@dataclass(frozen=True, slots=True)
class DatadogSettings:
    """A `datadog` config, checked: the intake URL and the reserved attributes each log has."""

    url: str
    service: str | None
    ddsource: str
    ddtags: str | None
    limits: BatchLimits


def datadog_settings(config: Mapping[str, Any]) -> DatadogSettings:
    """The rules of a `datadog` config: `site` (e.g. datadoghq.eu, default datadoghq.com) or
    `url` (the full intake URL, for a proxy), optional `service`, `ddsource` (default gitlab),
    `ddtags` and `batch`. Raises ValueError with a readable reason."""
    unknown = sorted(set(config) - {"site", "url", "service", "ddsource", "ddtags", "batch"})
    if unknown:
        raise ValueError(f"config has unknown keys: {', '.join(unknown)}")
    url = optional_url(config, "url")
    site = config.get("site")
    if url is not None and site is not None:
        raise ValueError("config takes site or url, not both")
    if url is None:
        site = DEFAULT_SITE if site is None else site
        if not isinstance(site, str) or len(site) > SITE_MAX or not SITE.fullmatch(site):
            raise ValueError("config site must be a Datadog site such as datadoghq.eu")
        url = f"https://http-intake.logs.{site}{INTAKE_PATH}"
    return DatadogSettings(
        url=url,
        service=optional_text(config, "service", limit=FIELD_MAX),
        ddsource=optional_text(config, "ddsource", limit=FIELD_MAX) or DEFAULT_SOURCE,
        ddtags=optional_text(config, "ddtags", limit=TAGS_MAX),
        limits=batch_limits(config, ceiling=CEILING),
    )


@dataclass(frozen=True, slots=True)
class DatadogTarget:
    """An intake URL and its API key. Holds the key: its repr shows none."""

    settings: DatadogSettings
    attributes: Mapping[str, str]  # ddsource, ddtags, service: on every log
    api_key: str = field(repr=False)


def log_entry(attributes: Mapping[str, str], item: Outgoing) -> bytes:
    """One log: the reserved attributes and the event as GitLab streams it in `message`,
    which Datadog parses as JSON into the log's attributes (`@event_type`, `@details.*`)."""
    return entry_head(attributes) + orjson.dumps(item.body.decode()) + b"}"


def entry_head(attributes: Mapping[str, str]) -> bytes:
    """What every log of a target starts with: `{<attributes>,"message":`, encoded once."""
    encoded = orjson.dumps(dict(attributes))[1:-1]
    return b"{" + (encoded + b"," if encoded else b"") + b'"message":'


class DatadogSink(ClientSink):
    """Posts batches of logs to Datadog's intake, gzip-compressed."""

    category: ClassVar[str] = "datadog"

    def prepare(self, config: Mapping[str, Any], secret: str) -> DatadogTarget:
        settings = datadog_settings(config)
        if not secret:
            raise ValueError("the Datadog API key is required")
        if not secret.isascii() or any(character.isspace() for character in secret):
            raise ValueError("the Datadog API key must be printable ASCII without spaces")
        attributes = {"ddsource": settings.ddsource}
        if settings.ddtags is not None:
            attributes["ddtags"] = settings.ddtags
        if settings.service is not None:
            attributes["service"] = settings.service
        return DatadogTarget(settings, attributes, secret)

    def limits(self, target: DatadogTarget) -> BatchLimits:
        return target.settings.limits

    async def send_batch(self, target: DatadogTarget, items: Sequence[Outgoing]) -> BatchAnswer:
        head = entry_head(target.attributes)
        entries = [head + orjson.dumps(item.body.decode()) + b"}" for item in items]
        fitting = [index for index, entry in enumerate(entries) if len(entry) <= MAX_LOG]
        too_large = {
            index: Answer(
                Verdict.REFUSED,
                detail=f"the log is {len(entry)} bytes; Datadog takes at most {MAX_LOG}",
            )
            for index, entry in enumerate(entries)
            if len(entry) > MAX_LOG
        }
        if not fitting:
            first = next(iter(too_large.values()))
            return BatchAnswer(first, too_large, requests=0)
        max_events = min(target.settings.limits.max_events, MAX_ENTRIES)
        # A separator per entry and the brackets count toward the payload limit.
        pieces = cut(
            [len(entries[index]) + 1 for index in fitting],
            max_events=max_events,
            max_bytes=MAX_PAYLOAD - 1,
        )
        parts = [[fitting[position] for position in piece] for piece in pieces]

        async def attempt(part: Sequence[int]) -> PartAnswer:
            body = b"[" + b",".join(entries[index] for index in part) + b"]"
            return await part_answered(self._post(target, body))

        answer = await send_in_parts(parts, attempt)
        if not too_large:
            return answer
        exceptions = {**answer.exceptions, **too_large}
        return BatchAnswer(answer.answer, exceptions, answer.requests)

    async def _post(self, target: DatadogTarget, body: bytes) -> PartAnswer:
        reply = await self._client.request(
            "POST",
            target.settings.url,
            headers={
                "DD-API-KEY": target.api_key,
                "Content-Type": "application/json",
                "Content-Encoding": "gzip",
            },
            body=gzip.compress(body, compresslevel=GZIP_LEVEL),
        )
        detail = datadog_error(reply.body) or f"HTTP {reply.status}"
        if 200 <= reply.status < 300:
            return PartAnswer(Answer(Verdict.DELIVERED, status=reply.status))
        if reply.status == STATUS_TOO_LARGE:
            return PartAnswer(Answer(Verdict.REFUSED, reply.status, detail), split=True)
        # 400 (a payload Datadog cannot read) and 403 (the API key) are the owner's to fix;
        # 408, 429 and 5xx pass with time: all are retried, 429 after the intake's wait.
        if reply.status == STATUS_TOO_MANY:
            wait = rate_limit_wait(reply.headers)
        else:
            wait = parse_retry_after(reply.headers.get("Retry-After"), datetime.now(UTC))
        return PartAnswer(Answer(Verdict.RETRY, reply.status, detail, wait))


def rate_limit_wait(headers: CIMultiDictProxy[str]) -> float | None:
    """Seconds a 429 asks for: `Retry-After`, else Datadog's `X-RateLimit-Reset` (seconds
    until the rate limit period resets), or None."""
    wait = parse_retry_after(headers.get("Retry-After"), datetime.now(UTC))
    if wait is not None:
        return wait
    reset = headers.get("X-RateLimit-Reset", "").strip()
    return float(reset) if reset.isdigit() else None


def datadog_error(body: bytes) -> str | None:
    """Datadog's reason from an error answer (`{"errors": ["..."]}`), or None."""
    errors = json_object(body).get("errors")
    if isinstance(errors, list):
        texts = [str(error) for error in errors if isinstance(error, str | dict) and error]
        return "; ".join(texts) or None
    return None
