"""What sinks share about reading answers: the verdict of a status, config checks, Retry-After."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from multidict import CIMultiDictProxy
from yarl import URL

from auditwire.domain.retry import parse_retry_after
from auditwire.streaming.sinks._client import TransportError, describe
from auditwire.streaming.sinks.base import Answer, Verdict

STATUS_TOO_LARGE = 413  # the event itself is too large: no later attempt can succeed


def status_answer(
    status: int, headers: CIMultiDictProxy[str], detail: str | None, *, refused: bool = False
) -> Answer:
    """The answer to a response: 2xx is delivered, a too-large event is refused, everything
    else is retried (a wrong key, a missing bucket or project can be fixed by the owner)."""
    if 200 <= status < 300:
        return Answer(Verdict.DELIVERED, status=status)
    if refused or status == STATUS_TOO_LARGE:
        return Answer(Verdict.REFUSED, status=status, detail=detail or f"HTTP {status}")
    return retry_answer(status, headers, detail)


def retry_answer(status: int, headers: CIMultiDictProxy[str], detail: str | None) -> Answer:
    """Try again, after the receiver's Retry-After when it sent one."""
    retry_after = parse_retry_after(headers.get("Retry-After"), datetime.now(UTC))
    return Answer(
        Verdict.RETRY, status=status, detail=detail or f"HTTP {status}", retry_after=retry_after
    )


async def answered(attempt: Awaitable[Answer]) -> Answer:
    """Await one attempt and turn whatever it raises into an answer, so `send` never raises:
    no response, or any fault on the way (a signer's, a parser's), is retried with its reason.
    Cancellation still propagates."""
    try:
        return await attempt
    except TransportError as error:
        return Answer(Verdict.RETRY, detail=str(error))
    except Exception as error:
        return Answer(Verdict.RETRY, detail=f"{type(error).__name__}: {describe(error)}")


def required_text(
    config: Mapping[str, Any], key: str, *, pattern: re.Pattern[str], limit: int, rule: str
) -> str:
    """A config value that must be a string of at most `limit` characters matching `pattern`;
    `rule` says in words what the pattern wants, for the error message."""
    value = config.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"config {key} is required")
    if len(value) > limit:
        raise ValueError(f"config {key} is too long (maximum is {limit} characters)")
    if not pattern.fullmatch(value):
        raise ValueError(f"config {key} {rule}")
    return value


def optional_url(config: Mapping[str, Any], key: str) -> str | None:
    """A config value that, when present, is an http(s) base URL with a host and without
    credentials, query or fragment; returned without a trailing slash, or None."""
    value = config.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"config {key} must be a URL")
    try:
        url = URL(value)
    except ValueError:
        raise ValueError(f"config {key} must be a URL") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"config {key} must be an http:// or https:// URL with a host")
    if url.user is not None or url.password is not None:
        raise ValueError(f"config {key} must not contain credentials")
    if url.query_string or url.fragment:
        raise ValueError(f"config {key} must not have a query or fragment")
    return str(url).rstrip("/")


def optional_text(config: Mapping[str, Any], key: str, *, limit: int) -> str | None:
    """A config value that, when present, is a non-blank string of at most `limit` characters."""
    value = config.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"config {key} must be a non-empty string")
    if len(value) > limit:
        raise ValueError(f"config {key} is too long (maximum is {limit} characters)")
    return value


def optional_flag(config: Mapping[str, Any], key: str) -> bool:
    """A config value that, when present, is true or false; absent is false."""
    value = config.get(key, False)
    if not isinstance(value, bool):
        raise ValueError(f"config {key} must be true or false")
    return value


def json_object(body: bytes) -> dict[str, Any]:
    """An answer's body as a JSON object, or an empty one when it is not one."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}
