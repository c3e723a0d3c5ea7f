"""Amazon S3 and S3-compatible stores: one SigV4-signed `PutObject` per event, under GitLab's
key layout `<entity type>/<YYYY>/<MM>/<event type>_<id>_<epoch ms>.json`."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote
from xml.etree import ElementTree

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from auditwire.domain.delivery import OneEvent
from auditwire.streaming.sinks._answers import (
    answered,
    optional_url,
    required_text,
    status_answer,
)
from auditwire.streaming.sinks._client import CONNECTIONS, TIMEOUT, ClientSink, SinkClient
from auditwire.streaming.sinks.base import Answer

CONTENT_TYPE = "application/json"
# The rules of GitLab's `aws` config schema, and a region that keeps AWS's host AWS's.
ACCESS_KEY = re.compile(r"[A-Za-z0-9_]+")
ACCESS_KEY_MAX = 128  # characters
BUCKET = re.compile(r"[a-z0-9][a-z0-9\-.]*")
BUCKET_MAX = 63  # characters
REGION = re.compile(r"[a-z0-9][a-z0-9-]*")
REGION_MAX = 50  # characters
# S3 error codes that no retry can cure: the event itself is refused.
REFUSED_CODES = frozenset({"EntityTooLarge"})
_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]+")


@dataclass(frozen=True, slots=True)
class S3Target:
    """Where and as whom to put objects. Holds the secret access key: its repr shows none."""

    access_key_id: str
    bucket: str
    region: str
    endpoint_url: str | None
    base_url: str  # the URL an object key is appended to
    secret_access_key: str = field(repr=False)
    signer: S3SigV4Auth = field(repr=False, compare=False)


def object_key(event: OneEvent, sent_at: datetime) -> str:
    """GitLab's object key. Like GitLab, the year, month and milliseconds are those of the
    upload, not of the event, so a redelivery writes a second object beside the first."""
    entity = _NOT_ALNUM.sub("_", event.entity_type.lower()) or "unspecified"
    moment = sent_at.astimezone(UTC)
    epoch_ms = int(moment.timestamp() * 1000)
    return f"{entity}/{moment:%Y}/{moment:%m}/{event.event_type}_{event.id}_{epoch_ms}.json"


class S3Sink(ClientSink):
    """Puts each event into the destination's bucket, signing every request with SigV4.

    `endpoint_url` (AUDITWIRE_S3_ENDPOINT_URL) is the operator's S3-compatible store for every
    destination whose config names no `endpointUrl`: GitLab's S3 API has no such argument.
    Unlike the Google URLs it is held to the guard against local addresses, as a config's is.
    """

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
        self._endpoint_url = optional_url({"endpointUrl": endpoint_url}, "endpointUrl")

    def prepare(self, config: Mapping[str, Any], secret: str) -> S3Target:
        access_key = required_text(
            config,
            "accessKeyXid",
            pattern=ACCESS_KEY,
            limit=ACCESS_KEY_MAX,
            rule="may contain only letters, digits and underscores",
        )
        bucket = required_text(
            config,
            "bucketName",
            pattern=BUCKET,
            limit=BUCKET_MAX,
            rule="must be lower-case letters, digits, dots and hyphens, starting with one of"
            " the first two",
        )
        region = required_text(
            config,
            "awsRegion",
            pattern=REGION,
            limit=REGION_MAX,
            rule="must be lower-case letters, digits and hyphens",
        )
        if not secret:
            raise ValueError("the secret access key is required")
        endpoint = optional_url(config, "endpointUrl") or self._endpoint_url
        if endpoint is not None:
            base = f"{endpoint}/{bucket}/"  # path-style, which every S3-compatible store speaks
        elif "." in bucket:  # a dotted name breaks the TLS name of a virtual host
            base = f"https://s3.{region}.amazonaws.com/{bucket}/"
        else:
            base = f"https://{bucket}.s3.{region}.amazonaws.com/"
        signer = S3SigV4Auth(Credentials(access_key, secret), "s3", region)
        return S3Target(access_key, bucket, region, endpoint, base, secret, signer)

    async def send(self, target: S3Target, event: OneEvent, body: bytes) -> Answer:
        return await answered(self._put(target, event, body))

    async def _put(self, target: S3Target, event: OneEvent, body: bytes) -> Answer:
        key = object_key(event, datetime.fromtimestamp(self._clock(), UTC))
        return await put_object(self._client, target, key, body, CONTENT_TYPE)


async def put_object(
    client: SinkClient, target: S3Target, key: str, body: bytes, content_type: str
) -> Answer:
    """One SigV4-signed PutObject of `body` under `key`, and its answer with S3's error code."""
    url = target.base_url + quote(key, safe="/")
    request = AWSRequest(method="PUT", url=url, data=body, headers={"Content-Type": content_type})
    target.signer.add_auth(request)
    reply = await client.request("PUT", url, headers=dict(request.headers.items()), body=body)
    code, message = s3_error(reply.body) if reply.status >= 300 else (None, None)
    detail = f"{code}: {message}" if code and message else code
    return status_answer(reply.status, reply.headers, detail, refused=code in REFUSED_CODES)


def s3_error(body: bytes) -> tuple[str | None, str | None]:
    """The `Code` and `Message` of an S3 error document, or Nones when it is not one.

    The body is already bounded by the client's read limit; expat (2.4.1 and later, which
    CPython 3.11 bundles) caps entity expansion, and ElementTree never fetches external ones.
    """
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return None, None
    found: dict[str, str] = {}
    for child in root:
        name = child.tag.rpartition("}")[2]  # ignore a namespace if the store sets one
        if name in ("Code", "Message") and child.text:
            found.setdefault(name, child.text.strip())
    return found.get("Code"), found.get("Message")
