"""Let `:id` be a URL-encoded full path (`my-group%2Fsub`) as in GitLab's API.

ASGI servers decode `%2F` to `/` before routing, which would split `a%2Fb` into two path
segments. This middleware rebuilds the routing path from the raw path, keeping a slash that
arrived encoded as `%2F` inside its segment; `params.ref()` decodes it for the handler.
"""

from __future__ import annotations

from urllib.parse import unquote

from starlette.types import ASGIApp, Receive, Scope, Send

API_PREFIX = b"/api/v4/"


class EncodedSlashes:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw: bytes | None = scope.get("raw_path")
            if raw and raw.startswith(API_PREFIX) and b"%2f" in raw.lower():
                segments = raw.split(b"?", 1)[0].decode("latin-1").split("/")
                path = "/".join(unquote(s).replace("/", "%2F") for s in segments)
                scope = {**scope, "path": path}
        await self.app(scope, receive, send)
