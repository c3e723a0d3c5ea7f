"""Fixtures for delivery tests: quick timings and a worker that is always stopped."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from auditwire.config import Settings
from auditwire.services.container import Services
from auditwire.streaming import DeliveryWorker

FAST = {
    "delivery_timeout": 1.0,
    "delivery_lease": 5.0,
    "delivery_poll_interval": 0.2,
    "delivery_retry_base": 0.05,
    "delivery_retry_max": 0.2,
    "delivery_circuit_probe_base": 0.1,
    "delivery_circuit_probe_max": 0.3,
    "delivery_shutdown_grace": 2.0,
}


@pytest.fixture
def fast_settings(settings: Settings) -> Settings:
    return settings.model_copy(update=FAST)


@pytest.fixture
async def start_worker(
    fast_settings: Settings, services: Services
) -> AsyncIterator[Callable[..., object]]:
    """`worker = await start_worker(**overrides)`: started now, stopped at the end."""
    started: list[DeliveryWorker] = []

    async def start(**overrides: object) -> DeliveryWorker:
        worker = DeliveryWorker(
            fast_settings.model_copy(update=overrides), services.store, services.box
        )
        await worker.start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        await worker.stop(grace=1.0)
