"""The delivery side of the operational endpoints: the worker's readiness check and the
outbox gauges read from the database at scrape time."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from auditwire.api.ops import ReadinessCheck
from auditwire.domain.events import utcnow
from auditwire.errors import AuditwireError
from auditwire.metrics import (
    FAILED_DELIVERIES,
    OLDEST_PENDING_AGE,
    OPEN_CIRCUITS,
    PENDING_DELIVERIES,
)
from auditwire.services.container import Services

if TYPE_CHECKING:
    from auditwire.streaming import DeliveryWorker
    from auditwire.streaming.child import WorkerProcess

log = logging.getLogger(__name__)


def worker_check(worker: DeliveryWorker) -> ReadinessCheck:
    """Ready while the in-process worker's loops are alive."""

    async def check() -> bool:
        return worker.running

    return check


def process_check(process: WorkerProcess) -> ReadinessCheck:
    """Ready while the worker process is alive and answers that its worker's loops are."""

    async def check() -> bool:
        return process.running and await process.is_running()

    return check


def queue_gauges(services: Services) -> Callable[[], Awaitable[None]]:
    """A metric refresher: pending and failed deliveries, the oldest pending age, open
    circuits. When the database cannot answer, the gauges keep their last values."""

    async def refresh() -> None:
        try:
            stats = await services.delivery.queue_stats()
        except (AuditwireError, OSError) as error:
            log.warning("cannot read the delivery queue for metrics: %s", error)
            return
        PENDING_DELIVERIES.set(stats.pending)
        FAILED_DELIVERIES.set(stats.failed)
        OLDEST_PENDING_AGE.set(stats.oldest_pending_age(utcnow()))
        OPEN_CIRCUITS.set(stats.open_circuits)

    return refresh
