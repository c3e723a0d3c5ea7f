"""Amazon S3, batched for data lakes: one gzipped NDJSON object per batch under
`<YYYY>/<MM>/<DD>/<epoch ms>_<first id>.json.gz`, signed and sent as the per-event S3 sink
does. Chosen with `config.format: "ndjson_gz"` beside the `aws` keys, and `config.batch`."""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from auditwire.streaming.sinks._answers import answered
from auditwire.streaming.sinks._client import CONNECTIONS, TIMEOUT, ClientSink
from auditwire.streaming.sinks.base import BatchAnswer, BatchLimits, Outgoing
from auditwire.streaming.sinks.batching import DEFAULT_LIMITS, batch_limits
from auditwire.streaming.sinks.http_batch import batch_body
from auditwire.streaming.sinks.s3 import S3Sink, S3Target, put_object

BATCH_FORMAT = "ndjson_gz"
CONTENT_TYPE = "application/gzip"  # the object is a gzip file; its name says what is inside
GZIP_LEVEL = 6  # objects are kept for long: compress them well


def s3_batch_limits(config: Mapping[str, Any]) -> BatchLimits:
    """The rules of the batched layout's keys: `format` must be "ndjson_gz" and `batch` is
    `{maxEvents ≤ 1000, maxBytes ≤ 5 MiB, maxWaitMs}`. Raises ValueError."""
    if config.get("format") != BATCH_FORMAT:
        raise ValueError(f'config format must be "{BATCH_FORMAT}" for batched objects')
    return batch_limits(config, ceiling=DEFAULT_LIMITS)


def batch_key(first: Outgoing, sent_at: datetime) -> str:
    """The object key of a batch: the upload's day and milliseconds, then the first id."""
    moment = sent_at.astimezone(UTC)
    epoch_ms = int(moment.timestamp() * 1000)
    return f"{moment:%Y}/{moment:%m}/{moment:%d}/{epoch_ms}_{first.event_id}.json.gz"


@dataclass(frozen=True, slots=True)
class S3BatchTarget:
    """The bucket to put batches into (the per-event sink's target) and the batch limits."""

    s3: S3Target
    limits: BatchLimits


class S3BatchSink(ClientSink):
    """Puts each batch as one object; a failed put is retried as a whole."""

    category: ClassVar[str] = "aws"

    def __init__(
        self,
        *,
        endpoint_url: str | None = None,
        timeout: float = TIMEOUT,
        connections: int = CONNECTIONS,
        allow_local_requests: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(
            timeout=timeout, connections=connections, allow_local_requests=allow_local_requests
        )
        self._clock = clock
        # The per-event sink's config rules (and the operator's endpoint); its client is never
        # started.
        self._rules = S3Sink(endpoint_url=endpoint_url)

    def prepare(self, config: Mapping[str, Any], secret: str) -> S3BatchTarget:
        limits = s3_batch_limits(config)
        aws = {key: value for key, value in config.items() if key not in ("format", "batch")}
        return S3BatchTarget(self._rules.prepare(aws, secret), limits)

    def limits(self, target: S3BatchTarget) -> BatchLimits:
        return target.limits

    async def send_batch(self, target: S3BatchTarget, items: Sequence[Outgoing]) -> BatchAnswer:
        key = batch_key(items[0], datetime.fromtimestamp(self._clock(), UTC))
        body = gzip.compress(batch_body("ndjson", [item.body for item in items]), GZIP_LEVEL)
        answer = await answered(put_object(self._client, target.s3, key, body, CONTENT_TYPE))
        return BatchAnswer(answer)
