"""Loopback stand-ins for Google's token endpoint and Cloud Logging's entries:write.

The token endpoint checks the JWT-bearer grant as Google does: the grant type, the RS256
signature against the service account's public key, and the claims. entries:write checks the
bearer token and the exact body shape, and keeps every entry it accepted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import jwt
import orjson
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SCOPE = "https://www.googleapis.com/auth/logging.write"
CLIENT_EMAIL = "auditwire@my-project.iam.gserviceaccount.com"
ENTRY_KEYS = {"logName", "resource", "severity", "jsonPayload"}

Override = Callable[[web.Request], Awaitable[web.Response | None]]


def new_private_key() -> tuple[str, RSAPublicKey]:
    """A fresh service-account key: its PEM (the destination's secret) and its public half."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    return pem, key.public_key()


def google_error(status: int, code: str, message: str) -> web.Response:
    body = {"error": {"code": status, "message": message, "status": code}}
    return web.json_response(body, status=status)


@dataclass
class Google:
    public_key: RSAPublicKey
    expires_in: int = 3600
    token_url: str = ""
    logging_url: str = ""
    minted: list[str] = field(default_factory=list)
    refused_grants: list[str] = field(default_factory=list)
    revoked: set[str] = field(default_factory=set)
    entries: list[dict[str, Any]] = field(default_factory=list)
    bearers: list[str] = field(default_factory=list)  # the token of every write, in order
    writes: int = 0
    on_write: Override | None = None  # answers instead of accepting, when it returns one
    on_token: Override | None = None  # answers instead of granting, when it returns one

    async def token(self, request: web.Request) -> web.Response:
        if self.on_token is not None and (override := await self.on_token(request)) is not None:
            return override
        form = await request.post()
        try:
            if form.get("grant_type") != GRANT_TYPE:
                raise ValueError(f"unexpected grant_type {form.get('grant_type')!r}")
            claims = jwt.decode(
                str(form.get("assertion")),
                self.public_key,
                algorithms=["RS256"],
                audience=self.token_url,
                issuer=CLIENT_EMAIL,
                options={"require": ["iss", "scope", "aud", "iat", "exp"]},
            )
            if claims["scope"] != SCOPE:
                raise ValueError(f"unexpected scope {claims['scope']!r}")
            if not 0 < claims["exp"] - claims["iat"] <= 3600:
                raise ValueError("the assertion must live at most an hour")
        except (jwt.InvalidTokenError, ValueError) as error:
            self.refused_grants.append(str(error))
            answer = {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
            return web.json_response(answer, status=400)
        token = f"token-{len(self.minted) + 1}"
        self.minted.append(token)
        return web.json_response(
            {"access_token": token, "expires_in": self.expires_in, "token_type": "Bearer"}
        )

    async def write(self, request: web.Request) -> web.Response:
        self.writes += 1
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        self.bearers.append(token)
        if scheme != "Bearer" or token not in self.minted or token in self.revoked:
            return google_error(
                401, "UNAUTHENTICATED", "Request had invalid authentication credentials."
            )
        if self.on_write is not None and (override := await self.on_write(request)) is not None:
            return override
        body = orjson.loads(await request.read())
        assert request.content_type == "application/json"
        assert set(body) == {"entries"} and len(body["entries"]) == 1, body
        entry = body["entries"][0]
        assert set(entry) == ENTRY_KEYS, entry
        assert entry["resource"] == {"type": "global"} and entry["severity"] == "INFO"
        self.entries.append(entry)
        return web.json_response({})


@asynccontextmanager
async def serve_google(google: Google) -> AsyncIterator[Google]:
    app = web.Application()
    app.router.add_post("/token", google.token)
    app.router.add_post("/v2/entries:write", google.write)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    google.token_url = f"http://127.0.0.1:{port}/token"
    google.logging_url = f"http://127.0.0.1:{port}/v2/entries:write"
    try:
        yield google
    finally:
        await runner.cleanup()
