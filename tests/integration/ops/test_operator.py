"""What the operator watches: metrics that move with deliveries, readiness of the in-process
worker, JSON log lines without secrets, the delivery log's pruning, `auditwire status`."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from rich.console import Console

from auditwire.api.app import create_app
from auditwire.config import Settings
from auditwire.domain.delivery_log import AttemptOutcome, AttemptRecord
from auditwire.domain.events import utcnow
from auditwire.logs import JsonFormatter
from auditwire.services.container import Services
from auditwire.status import show_status
from auditwire.store import Store
from auditwire.store import attempts as attempts_store
from auditwire.store.schema import audit_events, deliveries, delivery_attempts
from auditwire.store.schema import streaming_destinations as dest
from auditwire.streaming import prune
from auditwire.streaming.prune import AttemptPruner
from tests.integration.api.test_ops import _sample
from tests.integration.ops.conftest import Owned
from tests.integration.streaming.factories import (
    add_destination,
    add_header,
    eventually,
    group_event,
    record,
    user_event,
)
from tests.integration.streaming.receivers import Receiver, serve
from tests.integration.streaming.test_failures import failing_first


async def _metrics(client: httpx.AsyncClient) -> str:
    response = await client.get("/-/metrics")
    assert response.status_code == 200
    return response.text


def _gauge(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not exported")


async def test_metrics_move_as_events_are_recorded_and_delivered(
    client: httpx.AsyncClient, services: Services, owned: Owned, start_worker: Any
) -> None:
    async with serve(Receiver()) as ok, serve(Receiver(failing_first(10_000, 500))) as down:
        await add_destination(services, ok.url, group_id=owned.group.id)
        await add_destination(services, down.url)  # an instance destination that fails
        before = await _metrics(client)
        ids = await record(services, [group_event(owned.group.id, "acme")] * 3)
        queued = await _metrics(client)
        assert _gauge(queued, "auditwire_deliveries_pending") == 6  # 3 events, 2 destinations
        assert _gauge(queued, "auditwire_oldest_pending_delivery_age_seconds") > 0
        recorded = _sample(queued, "auditwire_audit_events_recorded_total", entity_type="Group")
        assert (
            recorded - _sample(before, "auditwire_audit_events_recorded_total", entity_type="Group")
            == 3
        )

        await start_worker(delivery_circuit_failures=1)
        await ok.wait_for(set(ids))

        async def circuit_open() -> bool:
            return _gauge(await _metrics(client), "auditwire_destination_circuits_open") == 1

        await eventually(circuit_open)
    after = await _metrics(client)
    delivered = {"outcome": "delivered", "kind": "group"}
    assert (
        _sample(after, "auditwire_delivery_attempts_total", **delivered)
        - _sample(before, "auditwire_delivery_attempts_total", **delivered)
        == 3
    )
    retried = {"outcome": "retry", "kind": "instance"}
    assert _sample(after, "auditwire_delivery_attempts_total", **retried) > _sample(
        before, "auditwire_delivery_attempts_total", **retried
    )
    latency = "auditwire_delivery_latency_seconds_count"
    assert _sample(after, latency, kind="group") - _sample(before, latency, kind="group") == 3
    assert _gauge(after, "auditwire_deliveries_pending") == 3  # the failing destination's


async def test_readiness_includes_the_in_process_worker_and_fails_when_it_stops(
    settings: Settings, store: Store
) -> None:
    app = create_app(settings, store, worker=True)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            running = await http.get("/-/readiness")
            await app.state.delivery_worker.stop()
            stopped = await http.get("/-/readiness")
    assert running.status_code == 200
    assert running.json()["worker_check"] == [{"status": "ok"}]
    assert stopped.status_code == 503
    assert stopped.json()["worker_check"] == [
        {"status": "failed", "message": "worker_check failed"}
    ]


async def test_failed_attempts_and_circuit_changes_log_json_lines_without_secrets(
    services: Services, start_worker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    header_value = "Splunk 7f3c-header-secret-value"
    async with serve(Receiver(failing_first(10_000, 502))) as receiver:
        destination = await add_destination(services, receiver.url + "?apikey=query-secret-42")
        await add_header(services, destination.id, "Authorization", header_value)
        [event_id] = await record(services, [user_event()])
        with caplog.at_level(logging.INFO):
            await start_worker(delivery_circuit_failures=2)

            async def circuit_logged() -> bool:
                return any(r.getMessage() == "destination circuit opened" for r in caplog.records)

            await eventually(circuit_logged)
            receiver.behaviour = failing_first(0, 200)  # back: the next probe closes it

            async def closed_logged() -> bool:
                return any(r.getMessage() == "destination circuit closed" for r in caplog.records)

            await eventually(closed_logged)
    lines = [JsonFormatter().format(r) for r in caplog.records]
    failed = [r for r in caplog.records if r.getMessage() == "delivery attempt failed"]
    assert len(failed) >= 2
    first: Any = failed[0]
    assert (first.destination_id, first.event_id, first.status_code) == (
        destination.id,
        event_id,
        502,
    )
    assert (first.error, first.outcome, first.event_type) == ("HTTP 502", "retry", "user_created")
    opened: Any = next(r for r in caplog.records if r.getMessage() == "destination circuit opened")
    assert (opened.destination_id, opened.consecutive_failures) == (destination.id, 2)
    assert opened.levelname == "WARNING" and opened.open_until is not None
    for secret in (destination.token, destination.signing_secret, header_value, "query-secret"):
        assert not any(secret in line for line in lines), secret


async def test_pruning_removes_old_attempt_records_only(
    services: Services, owned: Owned, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(attempts_store, "PRUNE_BATCH", 2)  # several batches for a few rows
    monkeypatch.setattr(prune, "PRUNE_BATCH", 2)
    destination = await add_destination(services, "http://127.0.0.1:9/hook")
    old_ids = await record(services, [user_event()] * 5)  # each pending for the destination
    now = utcnow()

    def attempt(event_id: int, age: timedelta) -> AttemptRecord:
        return AttemptRecord(
            destination.id, event_id, "user_created", now - age, 3, AttemptOutcome.RETRY, 500
        )

    async with services.store.write() as conn:
        await conn.execute(
            deliveries.update().where(deliveries.c.event_id == old_ids[0]).values(state="failed")
        )
        await attempts_store.insert_attempts(
            conn,
            [attempt(i, timedelta(days=15)) for i in old_ids]
            + [attempt(old_ids[0], timedelta(days=13)), attempt(old_ids[1], timedelta(0))],
        )
    removed = await AttemptPruner(services.store, keep_days=14).prune()
    assert removed == 5
    async with services.store.read() as conn:
        kept = list(await conn.execute(sa.select(delivery_attempts.c.event_id)))
        events = (
            await conn.execute(sa.select(sa.func.count()).select_from(audit_events))
        ).scalar_one()
        outbox = list(await conn.execute(sa.select(deliveries.c.event_id, deliveries.c.state)))
    assert sorted(row.event_id for row in kept) == sorted(old_ids[:2])
    assert events >= 5
    assert sorted(outbox) == sorted(
        [(old_ids[0], "failed"), *((i, "pending") for i in old_ids[1:])]
    )


async def test_status_prints_the_queue_and_each_destinations_health(
    settings: Settings, services: Services, owned: Owned
) -> None:
    healthy = await add_destination(services, "http://127.0.0.1:9/a", group_id=owned.group.id)
    broken = await add_destination(services, "http://127.0.0.1:9/b")
    await record(services, [group_event(owned.group.id, "acme")] * 2)
    async with services.store.write() as conn:
        await conn.execute(
            dest.update()
            .where(dest.c.id == broken.id)
            .values(circuit_state="open", consecutive_failures=7, last_error="HTTP 503")
        )
    console = Console(record=True, width=220)
    await show_status(settings, console)
    text = console.export_text()
    assert "Pending deliveries: 4" in text
    assert "Open circuits: 1" in text
    rows = {line.split("│")[1].strip(): line for line in text.splitlines() if line.count("│") > 5}
    assert "healthy" in rows[str(healthy.id)] and "group" in rows[str(healthy.id)]
    assert "circuit_open" in rows[str(broken.id)] and "HTTP 503" in rows[str(broken.id)]
    assert "instance" in rows[str(broken.id)]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_status_command_runs_against_the_configured_database(settings: Settings) -> None:
    env = {
        **os.environ,
        "AUDITWIRE_DATABASE_URL": settings.database_url,
        "AUDITWIRE_DATA_DIR": str(settings.data_dir),
    }
    done = subprocess.run(
        [sys.executable, "-m", "auditwire", "status"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Pending deliveries: 0" in done.stdout
    assert "Open circuits: 0" in done.stdout
