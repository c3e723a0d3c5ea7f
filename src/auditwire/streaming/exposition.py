"""`auditwire worker --metrics-port`: a worker process's own operational endpoints, for workers
that run apart from `auditwire serve` (whose own worker process is asked by `serve` instead).

- `/-/metrics`: this process's metrics in Prometheus' text format: its delivery counters and
  latency histograms, and the process's own. The queue gauges (pending, failed, oldest
  pending, open circuits) are the database's: `serve`'s `/-/metrics` shows them.
- `/-/readiness`: 200 while the worker's claim and settle loops run, 503 otherwise.
- `/-/health`: the process is up.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest


async def start_exposition(host: str, port: int, running: Callable[[], bool]) -> web.AppRunner:
    """Listen on `host`:`port` until the runner returned is cleaned up. Raises OSError when
    the address cannot be taken."""

    async def metrics(_request: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def readiness(_request: web.Request) -> web.Response:
        ok = running()
        status = "ok" if ok else "failed"
        body = {"status": status, "worker_check": [{"status": status}]}
        return web.json_response(body, status=200 if ok else 503)

    async def health(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get("/-/metrics", metrics)
    app.router.add_get("/-/readiness", readiness)
    app.router.add_get("/-/health", health)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner
