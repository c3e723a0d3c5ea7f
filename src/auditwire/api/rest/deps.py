"""Dependencies of the REST routes.

FastAPI runs a plain `def` dependency in a worker thread; these are `async def` so that
resolving them costs no thread hop on every request.
"""

from __future__ import annotations

from fastapi import Request

from auditwire.services.container import Services


async def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc
