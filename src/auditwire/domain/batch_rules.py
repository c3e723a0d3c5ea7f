"""The config rules of batched delivery: the `batch` object every batched layout takes, the
formats that make an `http` or `aws` destination batched, and the JSON schemas of the batch
kinds (`splunk`, `datadog`). `domain.categories` builds their category entries from these;
the batch sinks call the same rules when they prepare a target."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

EVENTS_CEILING = 1000  # events in one request: the most any batch kind accepts
BYTES_CEILING = 5 * 1024 * 1024  # bytes of stream bodies in one request (5 MiB)
DEFAULT_WAIT_MS = 200  # milliseconds a partial batch waits for more events
MAX_WAIT_MS = 60_000  # milliseconds: the longest a partial batch may be held back
FIELD_MAX = 1024  # characters of a Splunk envelope field or a Datadog attribute
TAGS_MAX = 4096  # characters of Datadog's ddtags
URL_MAX = 255  # characters, as every URL of a config

PER_EVENT = "event"  # http's default format: one event per POST, as GitLab
HTTP_BATCH_FORMATS = ("json_array", "ndjson")
AWS_BATCH_FORMAT = "ndjson_gz"  # one gzipped NDJSON object per batch
ALWAYS_BATCHED = frozenset({"splunk", "datadog"})

BATCH_NEEDS_FORMAT = 'Config batch needs config format "json_array" or "ndjson"'
AWS_BATCH_NEEDS_FORMAT = f'Config batch needs config format "{AWS_BATCH_FORMAT}"'
DATADOG_SITE_OR_URL = "Config takes site or url, not both"


def batch_schema() -> dict[str, Any]:
    """`batch: {maxEvents ≤ 1000, maxBytes ≤ 5 MiB, maxWaitMs ≤ 60000}`, each optional."""
    return {
        "type": "object",
        "properties": {
            "maxEvents": {"type": "integer", "minimum": 1, "maximum": EVENTS_CEILING},
            "maxBytes": {"type": "integer", "minimum": 1, "maximum": BYTES_CEILING},
            "maxWaitMs": {"type": "integer", "minimum": 0, "maximum": MAX_WAIT_MS},
        },
        "additionalProperties": False,
    }


def _text(limit: int = FIELD_MAX) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": limit, "pattern": r"\S"}


def _url() -> dict[str, Any]:
    return {"type": "string", "pattern": r"\Ahttps?://.+", "maxLength": URL_MAX}


def splunk_schema() -> dict[str, Any]:
    """Splunk HEC: the collector's base URL and the envelope's optional fields."""
    return {
        "type": "object",
        "properties": {
            "url": _url(),
            "index": _text(),
            "source": _text(),
            "sourcetype": _text(),
            "host": _text(),
            "ack": {"type": "boolean"},
            "batch": batch_schema(),
        },
        "required": ["url"],
        "additionalProperties": False,
    }


def datadog_schema() -> dict[str, Any]:
    """Datadog's logs intake: a site (e.g. datadoghq.eu) or a full intake URL."""
    return {
        "type": "object",
        "properties": {
            "site": {
                "type": "string",
                "maxLength": 253,
                "pattern": r"\A[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+\Z",
            },
            "url": _url(),
            "service": _text(),
            "ddsource": _text(),
            "ddtags": _text(TAGS_MAX),
            "batch": batch_schema(),
        },
        "additionalProperties": False,
    }


def batched(category: str, config: Mapping[str, Any]) -> bool:
    """Whether a destination sends many events per request: the batch kinds always, an
    `http` one with a batched `format`, an `aws` one with the batched object layout."""
    if category in ALWAYS_BATCHED:
        return True
    layout = config.get("format", PER_EVENT)
    if category == "http":
        return layout in HTTP_BATCH_FORMATS
    return category == "aws" and layout == AWS_BATCH_FORMAT


def batch_limits(
    config: Mapping[str, Any], *, max_events: int, max_bytes: int, max_wait_ms: int
) -> tuple[int, int, int]:
    """The `batch` object (`{maxEvents, maxBytes, maxWaitMs}`, each optional) held to a
    kind's ceiling; absent keys take the ceiling's values. ValueError with the reason."""
    value = config.get("batch")
    if value is None:
        return max_events, max_bytes, max_wait_ms
    if not isinstance(value, Mapping):
        raise ValueError("config batch must be an object with maxEvents, maxBytes, maxWaitMs")
    unknown = sorted(set(value) - {"maxEvents", "maxBytes", "maxWaitMs"})
    if unknown:
        raise ValueError(f"config batch has unknown keys: {', '.join(unknown)}")
    return (
        _bounded(value, "maxEvents", 1, max_events, max_events),
        _bounded(value, "maxBytes", 1, max_bytes, max_bytes),
        _bounded(value, "maxWaitMs", 0, MAX_WAIT_MS, max_wait_ms),
    )


def _bounded(value: Mapping[str, Any], key: str, low: int, high: int, default: int) -> int:
    number = value.get(key, default)
    if not isinstance(number, int) or isinstance(number, bool):
        raise ValueError(f"config batch.{key} must be an integer")
    if not low <= number <= high:
        raise ValueError(f"config batch.{key} must be between {low} and {high}")
    return number
