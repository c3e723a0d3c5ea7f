"""Worker processes: killed with SIGKILL at any moment they lose nothing; on PostgreSQL two
of them share one backlog; each may serve its own metrics."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import httpx
import pytest

from auditwire.config import Settings
from auditwire.services.container import Services
from tests.integration.streaming.factories import add_destination, eventually, record, user_event
from tests.integration.streaming.receivers import Receiver, serve
from tests.live import free_port

EVENTS = 3000
BATCH = 100  # events per recording transaction
KILLS = 5
KILL_EVERY = EVENTS // (KILLS + 1)  # events recorded between two kills
STOP_TIMEOUT = 20.0  # seconds a worker gets to stop on SIGTERM


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDITWIRE_")}
    env.update(
        AUDITWIRE_DATABASE_URL=settings.database_url,
        AUDITWIRE_DATA_DIR=str(settings.data_dir),
        AUDITWIRE_ALLOW_LOCAL_REQUESTS="true",
        AUDITWIRE_DELIVERY_LEASE="1.5",
        AUDITWIRE_DELIVERY_POLL_INTERVAL="0.2",
        AUDITWIRE_DELIVERY_RETRY_BASE="0.1",
        AUDITWIRE_DELIVERY_RETRY_MAX="0.5",
        AUDITWIRE_DELIVERY_TIMEOUT="2",
        **extra,
    )
    return env


async def start_worker_process(settings: Settings, *flags: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "auditwire",
        "worker",
        *flags,
        env=worker_env(settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def stop_gracefully(process: asyncio.subprocess.Process) -> str:
    process.send_signal(signal.SIGTERM)
    async with asyncio.timeout(STOP_TIMEOUT):
        output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()
    return output.decode()


def delivered_count(output: str) -> int:
    for line in output.splitlines():
        if line.startswith("auditwire worker stopped:"):
            fields = dict(item.split("=") for item in line.split(":", 1)[1].split())
            return int(fields.get("delivered", 0))
    raise AssertionError(f"no summary in the worker's output: {output}")


async def test_a_worker_killed_repeatedly_loses_no_event(
    services: Services, tmp_path: Path, settings: Settings
) -> None:
    assert Path(settings.data_dir) == tmp_path
    async with serve(Receiver()) as receiver:
        await add_destination(services, receiver.url)
        ids: list[int] = []
        kills = 0
        process = await start_worker_process(settings)
        try:
            for start in range(0, EVENTS, BATCH):
                ids += await record(services, [user_event() for _ in range(BATCH)])
                if kills < KILLS and start > 0 and start % KILL_EVERY == 0:
                    # Kill it in the middle of delivering, then start a fresh one.
                    await receiver.wait_arrivals(receiver.requests + 50)
                    process.kill()
                    await process.wait()
                    kills += 1
                    process = await start_worker_process(settings)
            await receiver.wait_for(set(ids), within=60.0)
        finally:
            if process.returncode is None:
                await stop_gracefully(process)
    assert set(receiver.delivered) == set(ids)
    assert kills == KILLS
    print(
        f"{len(ids)} events, {kills} SIGKILLs: {len(receiver.delivered)} delivered, "
        f"{receiver.duplicates} duplicates"
    )


async def test_two_worker_processes_share_one_backlog_on_postgresql(
    services: Services, settings: Settings, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite supports one worker process")
    async with serve(Receiver()) as receiver:
        await add_destination(services, receiver.url)
        ids: list[int] = []
        for _ in range(0, EVENTS, BATCH):
            ids += await record(services, [user_event() for _ in range(BATCH)])
        first = await start_worker_process(settings)
        second = await start_worker_process(settings)
        try:
            await receiver.wait_for(set(ids), within=60.0)
        finally:
            outputs = [await stop_gracefully(first), await stop_gracefully(second)]
    counts = [delivered_count(output) for output in outputs]
    assert set(receiver.delivered) == set(ids)
    assert all(count > 0 for count in counts), counts
    assert sum(counts) >= len(ids)
    print(f"workers delivered {counts}; {receiver.duplicates} duplicates")


async def test_a_worker_process_serves_its_own_metrics_and_readiness_when_asked(
    services: Services, settings: Settings
) -> None:
    port = free_port()
    async with (
        serve(Receiver()) as receiver,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http,
    ):
        await add_destination(services, receiver.url)
        process = await start_worker_process(settings, "--metrics-port", str(port))
        try:
            ids = await record(services, [user_event() for _ in range(5)])
            await receiver.wait_for(set(ids), within=30.0)

            async def counted() -> bool:  # counted when settled, just after the answers
                return delivered(await scrape(http)) == len(ids)

            await eventually(counted)
            readiness = await http.get("/-/readiness")
            assert readiness.status_code == 200
            assert readiness.json() == {"status": "ok", "worker_check": [{"status": "ok"}]}
            metrics = await http.get("/-/metrics")
            assert metrics.headers["content-type"].startswith("text/plain; version=")
            assert "auditwire_delivery_latency_seconds_count" in metrics.text
        finally:
            output = await stop_gracefully(process)
    assert f"auditwire worker metrics at http://127.0.0.1:{port}/-/metrics" in output


async def scrape(http: httpx.AsyncClient) -> str:
    try:
        return (await http.get("/-/metrics")).text
    except httpx.TransportError:  # not listening yet
        return ""


def delivered(metrics: str) -> float:
    return sum(
        float(line.split()[-1])
        for line in metrics.splitlines()
        if line.startswith("auditwire_delivery_attempts_total{") and 'outcome="delivered"' in line
    )


async def test_a_worker_whose_metrics_port_is_taken_says_so_and_exits(settings: Settings) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = await start_worker_process(settings, "--metrics-port", str(port))
        async with asyncio.timeout(STOP_TIMEOUT):
            output, _ = await process.communicate()
    assert process.returncode == 2
    assert f"cannot serve metrics on 127.0.0.1:{port}: Address already in use" in output.decode()
