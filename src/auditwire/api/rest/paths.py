"""URL handling for the REST API, before routing.

- `:id` may be a URL-encoded full path (`my-group%2Fsub`) as in GitLab's API. ASGI servers
  decode `%2F` to `/` before routing, which would split `a%2Fb` into two path segments, so
  the routing path is rebuilt from the raw path, keeping a slash that arrived encoded as `%2F`
  inside its segment; `params.ref()` decodes it for the handler.
- A URL carrying a NUL character is refused with 400: no id, path or name can hold one, and
  PostgreSQL refuses it in text.
"""

from __future__ import annotations

from urllib.parse import unquote

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

API_PREFIX = b"/api/v4/"
_NUL = b"%00"


class RestPaths:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw: bytes | None = scope.get("raw_path")
            if raw and raw.startswith(API_PREFIX):
                if _NUL in raw or _NUL in scope.get("query_string", b""):
                    await _refuse(send, "URL must not contain NUL characters")
                    return
                if b"%2f" in raw.lower():
                    segments = raw.split(b"?", 1)[0].decode("latin-1").split("/")
                    path = "/".join(unquote(s).replace("/", "%2F") for s in segments)
                    scope = {**scope, "path": path}
        await self.app(scope, receive, send)


async def _refuse(send: Send, message: str) -> None:
    body = orjson.dumps({"error": message})
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 400, "headers": headers})
    await send({"type": "http.response.body", "body": body})
