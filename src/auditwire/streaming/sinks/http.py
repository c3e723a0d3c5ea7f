"""The HTTP kind: one POST per event, as GitLab streams them, over shared keep-alive pools.

Every guarantee of the delivery engine's first sender holds: each phase timed out, redirects
never followed, answers read to a limit, the SSRF guard at connect time, connections kept
alive per host, the Standard Webhooks signature and the destination's headers. The requests
go through auditwire's own HTTP/1.1 client (`_wire.py`), which costs a fraction of aiohttp's
CPU per request (docs/http-clients.md); what is the same for every event of a destination is
encoded once, in `prepare`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from auditwire import __version__
from auditwire.domain.retry import STATUS_GONE, parse_retry_after
from auditwire.domain.signing import sign, signing_key
from auditwire.streaming.guard import literal_block
from auditwire.streaming.sinks._wire import Origin, WireClient, WireError
from auditwire.streaming.sinks.base import Answer, Verdict

TIMEOUT = 8.0  # seconds: GitLab's open, read and write timeouts
RESPONSE_BODY_LIMIT = 64 * 1024  # bytes read from a response; the rest is dropped
KEEPALIVE = 30.0  # seconds an idle connection is kept for the next POST
TOTAL_FACTOR = 3  # a whole request may take this many timeouts at most
CONNECTIONS = 256  # connections open at once, over all hosts

# RFC 9110: a field name is a token; a value holds no control character but a tab.
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
TOKEN_HEADER = "X-Gitlab-Event-Streaming-Token"
EVENT_TYPE_HEADER = "X-Gitlab-Audit-Event-Type"
USER_AGENT = f"auditwire/{__version__}"
SIGNING_SECRET_KEY = "signingSecret"  # the prepared config's signing secret (not user config)

# Headers each POST sets itself: a custom header of the same name is not sent.
PER_EVENT = frozenset(
    (EVENT_TYPE_HEADER.lower(), "webhook-id", "webhook-timestamp", "webhook-signature")
)
FRAMING = frozenset(("content-length", "transfer-encoding"))  # each POST's own framing


class Event(Protocol):
    """What a POST needs of the event it carries."""

    @property
    def id(self) -> int: ...

    @property
    def event_type(self) -> str: ...


@dataclass(frozen=True, slots=True, repr=False)
class HttpTarget:
    """What one POST to a destination needs. Holds secrets: its repr shows none."""

    url: URL
    origin: Origin
    head: bytes  # the request line and every header that is the same for each event
    signing_key: bytes
    blocked: str | None  # why the URL's IP literal is refused, when it is

    def __repr__(self) -> str:
        return f"HttpTarget(host={self.url.host!r})"


class HttpSink:
    """Owns one client for its life: connections are pooled per destination host and
    reused, redirects are never followed, and every phase has a timeout."""

    category: ClassVar[str] = "http"

    def __init__(
        self,
        *,
        timeout: float = TIMEOUT,
        connections: int = CONNECTIONS,
        allow_local_requests: bool = False,
    ) -> None:
        self._timeout = timeout
        self._connections = connections
        self._allow_local = allow_local_requests
        self._client: WireClient | None = None

    def prepare(self, config: Mapping[str, Any], secret: str) -> HttpTarget:
        """`config` is the destination's with its active headers as `{key: {value, active}}`
        and its signing secret under `signingSecret`; `secret` is the verification token."""
        url = URL(str(config.get("url", "")))
        if url.scheme not in ("http", "https") or not url.raw_host or url.port is None:
            raise ValueError("the destination url is invalid")
        headers: CIMultiDict[str] = CIMultiDict()
        headers["Host"] = url.host_port_subcomponent or url.raw_host
        headers["Content-Type"] = "application/json"
        headers["User-Agent"] = USER_AGENT
        headers["Accept"] = "*/*"
        for key, header in (config.get("headers") or {}).items():
            if header.get("active", True):  # a custom Content-Type (or User-Agent) wins
                headers[key] = header["value"]
        headers[TOKEN_HEADER] = secret
        if url.raw_user is not None or url.raw_password is not None:
            if "Authorization" in headers:
                raise ValueError("url credentials and an Authorization header cannot both be sent")
            headers["Authorization"] = basic_auth(url.user or "", url.password or "")
        lines = [f"POST {url.raw_path_qs or '/'} HTTP/1.1\r\n"]
        for key, value in headers.items():
            if any(c in key or c in value for c in "\r\n\x00"):
                raise ValueError(f"header {key[:40]!r} contains a line break or NUL")
            if HEADER_NAME.fullmatch(key) is None:
                raise ValueError(f"header {key[:40]!r} is not a header name")
            if CONTROL.search(value) is not None:
                raise ValueError(f"header {key[:40]!r} contains a control character")
            if key.lower() not in PER_EVENT and key.lower() not in FRAMING:
                lines.append(f"{key}: {value}\r\n")
        return HttpTarget(
            url=url,
            origin=Origin(url.raw_host, url.port, url.scheme == "https"),
            head="".join(lines).encode(),
            signing_key=signing_key(str(config.get(SIGNING_SECRET_KEY, ""))),
            blocked=None if self._allow_local else literal_block(url.host),
        )

    async def start(self) -> None:
        if self._client is not None:
            return
        self._client = WireClient(
            timeout=self._timeout,
            # `total` bounds a receiver that trickles its answer a byte at a time.
            total=self._timeout * TOTAL_FACTOR,
            connections=self._connections,
            keepalive=KEEPALIVE,
            body_limit=RESPONSE_BODY_LIMIT,
            guarded=not self._allow_local,
        )
        await self._client.start()

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def send(self, target: HttpTarget, event: Event, body: bytes) -> Answer:
        """POST one event. Never raises: every failure of the attempt is an Answer.
        Of `event`, only its id and its type are used."""
        if self._client is None:
            raise RuntimeError("HttpSink.start() was not awaited")
        if target.blocked is not None:
            return Answer(Verdict.RETRY, detail=target.blocked)
        try:
            event_type = event.event_type
            if not event_type.isprintable():  # no line break, NUL or other control character
                return Answer(Verdict.RETRY, detail="the event type cannot be sent as a header")
            message_id = str(event.id)
            timestamp = int(time.time())
            signature = sign(target.signing_key, message_id, timestamp, body)
            per_event = (
                f"{EVENT_TYPE_HEADER}: {event_type}\r\nwebhook-id: {message_id}\r\n"
                f"webhook-timestamp: {timestamp}\r\nwebhook-signature: {signature}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            )
            status, retry_after = await self._client.post(
                target.origin, target.head + per_event.encode() + body
            )
        except TimeoutError:
            return Answer(Verdict.RETRY, detail="timed out")
        except WireError as error:
            return Answer(Verdict.RETRY, detail=str(error))
        except Exception as error:  # any fault of this one attempt is a failed attempt
            return Answer(Verdict.RETRY, detail=describe(error))
        if 200 <= status < 300:  # the common case, without a look at Retry-After
            return Answer(Verdict.DELIVERED, status=status)
        return answer_of(status, retry_after)


def basic_auth(user: str, password: str) -> str:
    """The Authorization header of URL credentials, as aiohttp encodes them (Latin-1)."""
    try:
        return aiohttp.encode_basic_auth(user, password, encoding="latin-1")
    except UnicodeEncodeError:
        raise ValueError("url credentials must be Latin-1 text") from None


def answer_of(status: int, retry_after: str | None) -> Answer:
    """Only 2xx is delivered; 410 asks us to stop; anything else (3xx too: redirects are not
    followed) is retried, after the receiver's Retry-After when it sent one."""
    if 200 <= status < 300:
        return Answer(Verdict.DELIVERED, status=status)
    if status == STATUS_GONE:
        return Answer(Verdict.GONE, status=status, detail="410 Gone")
    wait = parse_retry_after(retry_after, datetime.now(UTC)) if retry_after else None
    return Answer(Verdict.RETRY, status=status, detail=f"HTTP {status}", retry_after=wait)


def describe(error: BaseException) -> str:
    """Why an attempt failed, in words, without the destination's host or port: delivery
    logs and `lastError` name a destination by its id and name only."""
    if isinstance(error, WireError):
        return str(error)
    if isinstance(error, OSError):
        return f"connection failed: {type(error).__name__}"
    return f"{type(error).__name__}: {str(error)[:200]}"
