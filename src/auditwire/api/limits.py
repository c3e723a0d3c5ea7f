"""Limits on every request, applied before routing, as a pure ASGI middleware.

The body is read here, chunk by chunk, and never past `MAX_BODY_BYTES`: a declared
`Content-Length` over the cap is refused before a byte is read, and a body that keeps coming
is refused as soon as it crosses the cap. A GraphQL request is then checked for its shape and
size (`request_checks`) before the GraphQL engine parses it. Refusals are JSON: GitLab's
`{"message": ...}` for REST, `{"errors": [{"message": ...}]}` for GraphQL.
"""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from auditwire.api.graphql.request_checks import QUERY_TOO_LARGE, Refusal, check_get, check_post

# GitLab's cap on a JSON body where it takes events (`JsonValidation`, `/-/collect_events`).
MAX_BODY_BYTES = 10 * 1024 * 1024
TOO_LARGE = "413 Request Entity Too Large"


class _TooLarge(Exception):
    pass


class RequestLimits:
    def __init__(self, app: ASGIApp, *, graphql_path: str, max_body: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.graphql_path = graphql_path
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        graphql = scope.get("path") == self.graphql_path
        headers = dict(scope.get("headers") or ())
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await _answer(send, graphql, Refusal(400, "Content-Length is invalid"))
                return
            if int(declared) > self.max_body:
                await _answer(send, graphql, _too_large(graphql))
                return
        try:
            body = await self._body(receive)
        except _TooLarge:
            await _answer(send, graphql, _too_large(graphql))
            return
        if graphql:
            refusal = (
                check_post(headers.get(b"content-type", b"").decode("latin-1"), body)
                if scope.get("method") == "POST"
                else check_get(scope.get("query_string", b""))
            )
            if refusal is not None:
                await _answer(send, graphql, refusal)
                return
        await self.app(scope, _replay(body, receive), send)

    async def _body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return b"".join(chunks)
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _too_large(graphql: bool) -> Refusal:
    return Refusal(413, QUERY_TOO_LARGE if graphql else TOO_LARGE)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body read here, once; then the server's own messages (a disconnect)."""
    pending = True

    async def replayed() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def _answer(send: Send, graphql: bool, refusal: Refusal) -> None:
    payload = (
        {"errors": [{"message": refusal.message}]} if graphql else {"message": refusal.message}
    )
    body = orjson.dumps(payload)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
