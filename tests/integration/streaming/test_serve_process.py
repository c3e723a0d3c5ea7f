"""`auditwire serve` delivers from a worker process of its own, which it supervises: real
`serve` processes, events recorded through the API, a loopback receiver."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest
from aiohttp import web

from auditwire.config import Settings
from auditwire.services.container import Services
from tests.conftest import Account
from tests.integration.streaming.factories import add_destination, eventually
from tests.integration.streaming.receivers import Receiver, accept, serve
from tests.integration.streaming.test_processes import (
    STOP_TIMEOUT,
    start_worker_process,
    worker_env,
)
from tests.live import free_port

START_TIMEOUT = 30.0  # seconds for serve to be ready, its worker process included
GONE_TIMEOUT = 15.0  # seconds a worker process gets to notice that serve is gone
# Long enough that only the wake from serve's process can explain a prompt delivery.
POLL_INTERVAL = "60"
WITHIN = 20.0  # seconds the deliveries may take (well under POLL_INTERVAL)
IN_FLIGHT = 4  # requests to one destination at a time, where a test sets it


@dataclass
class Serve:
    process: asyncio.subprocess.Process
    url: str

    def children(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children()

    async def child(self) -> psutil.Process:
        """serve's worker process, once it runs (bounded wait)."""
        async with asyncio.timeout(START_TIMEOUT):
            while True:
                workers = [c for c in self.children() if "worker" in c.cmdline()]
                if workers:
                    return workers[0]
                await asyncio.sleep(0.05)


@asynccontextmanager
async def serving(
    settings: Settings, log: Path, env: dict[str, str] | None = None, flags: tuple[str, ...] = ()
) -> AsyncIterator[Serve]:
    """`auditwire serve` on a free loopback port, ready (its worker process running); its
    output (and its worker process's) appended to `log`; `env` added to its environment and
    `flags` to its command line."""
    port = free_port()
    env = worker_env(settings) | {"AUDITWIRE_DELIVERY_POLL_INTERVAL": POLL_INTERVAL} | (env or {})
    with log.open("ab") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "auditwire",
            "serve",
            "--port",
            str(port),
            *flags,
            env=env,
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
        )
    running = Serve(process, f"http://127.0.0.1:{port}")
    try:
        await ready(running)
        yield running
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def ready(running: Serve) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=running.url) as http, asyncio.timeout(START_TIMEOUT):
        while True:
            with suppress(httpx.TransportError):
                answer = await http.get("/-/readiness")
                if answer.status_code == 200:
                    body: dict[str, object] = answer.json()
                    return body
            assert running.process.returncode is None, "serve exited"
            await asyncio.sleep(0.1)


async def record_through_api(running: Serve, root: Account, count: int) -> list[int]:
    ids = []
    async with httpx.AsyncClient(base_url=running.url, headers=root.headers) as http:
        for n in range(count):
            answer = await http.post(
                "/api/v4/audit_events",
                json={
                    "event_type": "custom",
                    "entity_type": "User",
                    "entity_id": root.user.id,
                    "entity_path": "root",
                    "author": {"id": root.user.id},
                    "details": {"n": n},
                },
            )
            assert answer.status_code == 201, answer.text
            ids.append(int(answer.json()["id"]))
    return ids


async def said(log: Path, text: str) -> bool:
    return text in await asyncio.to_thread(log.read_text)


async def gone(pid: int) -> bool:
    """The process exited within GONE_TIMEOUT (a zombie counts as gone)."""
    with suppress(TimeoutError):
        async with asyncio.timeout(GONE_TIMEOUT):
            while True:
                try:
                    if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                        return True
                except psutil.NoSuchProcess:
                    return True
                await asyncio.sleep(0.05)
    return False


async def test_serve_delivers_from_its_worker_process_when_woken_by_the_api(
    services: Services, settings: Settings, root: Account, tmp_path: Path
) -> None:
    async with serve(Receiver()) as receiver:
        await add_destination(services, receiver.url)
        async with serving(settings, tmp_path / "serve.log") as running:
            health = await ready(running)
            assert health["worker_check"] == [{"status": "ok"}]
            await running.child()
            await asyncio.sleep(1.0)  # past the worker's first claims: it waits for a wake
            ids = await record_through_api(running, root, 5)
            # Before the next poll: only serve's wake explains it.
            await receiver.wait_for(set(ids), within=WITHIN)
            async with httpx.AsyncClient(base_url=running.url) as http:
                metrics = (await http.get("/-/metrics")).text
    # The worker process's counts, shown by serve's /-/metrics.
    delivered = [
        float(line.split()[-1])
        for line in metrics.splitlines()
        if line.startswith("auditwire_delivery_attempts_total{")
        and 'outcome="delivered"' in line
        and 'kind="instance"' in line
    ]
    assert delivered == [len(ids)], metrics
    assert f'auditwire_delivery_latency_seconds_count{{kind="instance"}} {len(ids)}.0' in metrics
    assert "auditwire worker started" in (tmp_path / "serve.log").read_text()


async def test_sigterm_to_serve_stops_its_worker_process_gracefully_losing_nothing(
    services: Services, settings: Settings, root: Account, tmp_path: Path
) -> None:
    log = tmp_path / "serve.log"
    gate = asyncio.Event()

    async def held(request: web.Request) -> web.StreamResponse:
        """Answered once the test opens the gate: in flight until then (bounded)."""
        async with asyncio.timeout(WITHIN):
            await gate.wait()
        return await accept(request)

    # Few in flight, and a timeout and a grace longer than the test holds them.
    env = {
        "AUDITWIRE_DELIVERY_CONCURRENCY_PER_DESTINATION": str(IN_FLIGHT),
        "AUDITWIRE_DELIVERY_TIMEOUT": str(WITHIN),
        "AUDITWIRE_DELIVERY_SHUTDOWN_GRACE": str(WITHIN),
    }
    async with serve(Receiver(held)) as receiver:
        await add_destination(services, receiver.url)
        async with serving(settings, log, env) as running:
            child = await running.child()
            ids = await record_through_api(running, root, 40)
            await receiver.wait_arrivals(IN_FLIGHT)  # delivering: some in flight, the rest due
            running.process.send_signal(signal.SIGTERM)
            await eventually(lambda: said(log, "auditwire worker stopping:"))  # claims no more
            gate.set()  # those in flight are answered within the grace
            async with asyncio.timeout(STOP_TIMEOUT):
                await running.process.wait()
            assert await gone(child.pid)
        # uvicorn ends by raising the signal again once it has shut down cleanly
        assert running.process.returncode in (0, -signal.SIGTERM)
        assert "auditwire worker stopped:" in log.read_text()  # its graceful stop's summary
        # Every outcome was written: those in flight were delivered, the rest are pending.
        assert set(receiver.delivered) <= set(ids)
        assert len(receiver.delivered) == IN_FLIGHT
        assert (await services.delivery.queue_stats()).pending == len(ids) - IN_FLIGHT
        async with serving(settings, log) as again:  # the next serve delivers the rest
            await again.child()
            await receiver.wait_for(set(ids), within=WITHIN)


async def test_a_killed_worker_process_is_restarted_and_delivers_what_was_pending(
    services: Services, settings: Settings, root: Account, tmp_path: Path
) -> None:
    async with serve(Receiver()) as receiver:
        await add_destination(services, receiver.url)
        async with serving(settings, tmp_path / "serve.log") as running:
            child = await running.child()
            child.kill()
            ids = await record_through_api(running, root, 10)  # recorded while it is down
            async with asyncio.timeout(START_TIMEOUT):
                while True:
                    again = await running.child()
                    if again.pid != child.pid:
                        break
                    await asyncio.sleep(0.05)
            await ready(running)
            await receiver.wait_for(set(ids), within=WITHIN)
            assert running.process.returncode is None


async def test_serve_killed_leaves_no_worker_process_behind(
    settings: Settings, tmp_path: Path
) -> None:
    async with serving(settings, tmp_path / "serve.log") as running:
        child = await running.child()
        os.kill(running.process.pid, signal.SIGKILL)
        await running.process.wait()
        assert await gone(child.pid)


@pytest.mark.parametrize(
    "flags", [(), ("--worker-in-process",)], ids=["worker process", "worker in process"]
)
async def test_a_second_worker_process_on_sqlite_is_refused_while_serve_runs_one(
    settings: Settings, backend: str, tmp_path: Path, flags: tuple[str, ...]
) -> None:
    if backend != "sqlite":
        pytest.skip("PostgreSQL takes any number of worker processes")
    async with serving(settings, tmp_path / "serve.log", flags=flags) as running:
        if not flags:
            await running.child()
        second = await start_worker_process(settings)
        async with asyncio.timeout(START_TIMEOUT):
            output, _ = await second.communicate()
        assert second.returncode == 2
        assert "another worker process delivers from" in output.decode()
        assert (await ready(running))["worker_check"] == [{"status": "ok"}]


async def test_serve_with_its_worker_in_process_is_refused_beside_a_worker_on_sqlite(
    settings: Settings, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("PostgreSQL takes any number of worker processes")
    worker = await start_worker_process(settings)
    try:
        assert worker.stdout is not None
        async with asyncio.timeout(START_TIMEOUT):
            started = await worker.stdout.readline()
        assert started.startswith(b"auditwire worker started"), started
        env = worker_env(settings)
        command = [sys.executable, "-m", "auditwire", "serve", "--worker-in-process"]
        refused = await asyncio.create_subprocess_exec(
            *command,
            "--port",
            str(free_port()),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            async with asyncio.timeout(START_TIMEOUT):
                output, _ = await refused.communicate()
        finally:
            if refused.returncode is None:  # it was not refused: it serves
                refused.kill()
                await refused.wait()
        assert refused.returncode == 2, output.decode()
        assert "another worker process delivers from" in output.decode()
    finally:
        worker.kill()
        await worker.wait()
