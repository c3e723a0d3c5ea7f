"""Operational endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from auditwire.errors import AuditwireError
from auditwire.metrics import HTTP_LATENCY, HTTP_REQUESTS, Merged
from auditwire.store.migrate import is_current

CHECK_TIMEOUT = 3.0  # seconds for each readiness check
ReadinessCheck = Callable[[], Awaitable[bool]]

router = APIRouter(include_in_schema=False)


@router.get("/-/health")
async def health() -> dict[str, str]:
    """The process is up and serving."""
    return {"status": "ok"}


@router.get("/-/readiness")
async def readiness(request: Request) -> JSONResponse:
    """GitLab's shape: `{"status": "ok", "db_check": [{"status": "ok"}], ...}`; 503 if any fails."""
    checks: dict[str, ReadinessCheck] = dict(request.app.state.readiness_checks)
    results: dict[str, Any] = {}
    healthy = True
    for name, check in checks.items():
        try:
            ok = await asyncio.wait_for(check(), CHECK_TIMEOUT)
            message = None if ok else f"{name} failed"
        except (TimeoutError, AuditwireError, OSError) as error:
            ok, message = False, f"{name} failed: {type(error).__name__}"
        healthy &= ok
        entry: dict[str, str] = {"status": "ok" if ok else "failed"}
        if message:
            entry["message"] = message
        results[name] = [entry]
    body = {"status": "ok" if healthy else "failed", **results}
    return JSONResponse(body, status_code=200 if healthy else 503)


@router.get("/-/metrics")
async def metrics(request: Request) -> Response:
    for refresh in request.app.state.metric_refreshers:
        await refresh()
    others = [family for source in request.app.state.metric_sources for family in await source()]
    registry = Merged(REGISTRY, others) if others else REGISTRY
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def database_checks(app_state: Any) -> dict[str, ReadinessCheck]:
    """Database reachable, and its schema at the newest migration."""
    store = app_state.services.store

    async def db_check() -> bool:
        async with store.read() as conn:
            return bool((await conn.execute(sa.text("SELECT 1"))).scalar_one() == 1)

    async def migrations_check() -> bool:
        return await is_current(store)

    return {"db_check": db_check, "migrations_check": migrations_check}


def route_template(scope: Scope) -> str:
    """`/api/v4/groups/{id}` for `/api/v4/groups/12`: bounded label values for metrics.

    An included router's route knows only its own part of the path (`/groups/{id}`), so the
    prefix is taken from the request path where that part starts.
    """
    route = scope.get("route")
    template: str | None = getattr(route, "path", None)
    regex = getattr(route, "path_regex", None)
    if template is None or regex is None:
        return "unmatched"
    path: str = scope.get("path", "")
    for index, char in enumerate(path):
        if char == "/" and regex.match(path[index:]):
            return path[:index] + template
    return template


class HttpMetricsMiddleware:
    """Counts requests and their latency by route template (never by raw path)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            template = route_template(scope)
            method = scope.get("method", "GET")
            HTTP_REQUESTS.labels(method, template, str(status)).inc()
            HTTP_LATENCY.labels(method, template).observe(time.perf_counter() - started)
