"""The application factory: wires settings, store and services into one ASGI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Literal

from fastapi import FastAPI

from auditwire import __version__
from auditwire.api.errors import install_error_handlers
from auditwire.api.graphql.router import ENDPOINT as GRAPHQL_ENDPOINT
from auditwire.api.graphql.router import graphql_router
from auditwire.api.limits import RequestLimits
from auditwire.api.ops import HttpMetricsMiddleware, database_checks
from auditwire.api.ops import router as ops_router
from auditwire.api.ops_delivery import process_check, queue_gauges, worker_check
from auditwire.api.rest import RestPaths
from auditwire.api.rest import router as rest_router
from auditwire.api.rest.audit_events import INGEST_PATH, describe_ingestion
from auditwire.api.rest.openapi import describe_rest
from auditwire.config import Settings
from auditwire.crypto import derive_key, load_or_create_key
from auditwire.services.container import Services
from auditwire.store import Store
from auditwire.store import deliveries as deliveries_store
from auditwire.web import OPENAPI_PATH, install_pages

if TYPE_CHECKING:
    from auditwire.streaming import DeliveryWorker
    from auditwire.streaming.child import WorkerProcess

REST_PREFIX = "/api/v4"
SESSIONS = "auditwire session cookies"  # what the session signing key is derived for


def create_app(
    settings: Settings, store: Store | None = None, *, worker: bool | Literal["process"] = False
) -> FastAPI:
    """Build the app. A store passed in is the caller's to close; one made here closes with it.
    With `worker`, a delivery worker runs in the app's process for the app's lifetime; with
    `worker="process"`, in a worker process the app supervises (`streaming.child`), woken
    when events commit here."""
    own_store = store is None
    active_store = store or Store(settings.resolved_database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        delivery: DeliveryWorker | WorkerProcess | None = None
        remove_hook = None
        if worker == "process":
            from auditwire.streaming.child import WorkerProcess

            delivery = WorkerProcess(settings)
            await delivery.start()
            remove_hook = deliveries_store.on_outbox_commit(active_store, delivery.wake)
            app.state.delivery_process = delivery
            app.state.readiness_checks["worker_check"] = process_check(delivery)
            app.state.metric_sources.append(delivery.metrics)
        elif worker:
            from auditwire.streaming import DeliveryWorker

            delivery = DeliveryWorker(settings, active_store, app.state.services.box)
            await delivery.start()
            app.state.delivery_worker = delivery
            app.state.readiness_checks["worker_check"] = worker_check(delivery)
        try:
            yield
        finally:
            if remove_hook is not None:
                remove_hook()
            if delivery is not None:
                await delivery.stop()
            await app.state.services.ingest.close()
            if own_store:
                await active_store.close()

    app = FastAPI(
        title="auditwire",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,  # served by install_pages, from local assets
        redoc_url=None,
        openapi_url=OPENAPI_PATH,
    )
    app.state.services = Services.build(settings, active_store)
    app.state.readiness_checks = database_checks(app.state)
    app.state.metric_refreshers = [queue_gauges(app.state.services)]
    app.state.metric_sources = []  # other processes' metrics, added to this one's
    install_error_handlers(app)
    app.add_middleware(HttpMetricsMiddleware)
    app.include_router(ops_router)
    app.include_router(rest_router, prefix=REST_PREFIX)
    app.include_router(graphql_router())
    session_key = derive_key(load_or_create_key(settings.secret_key, settings.data_dir), SESSIONS)
    install_pages(app, session_secret=session_key.hex())
    app.add_middleware(RestPaths)
    app.add_middleware(RequestLimits, graphql_path=GRAPHQL_ENDPOINT)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = FastAPI.openapi(app)
            describe_ingestion(document, REST_PREFIX + INGEST_PATH)
            describe_rest(document, REST_PREFIX)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
