"""Ingestion throughput: single-event requests and batches of 1,000, on SQLite and PostgreSQL.

Runs `auditwire serve` in a subprocess on a free loopback port against a fresh database,
drives it with aiohttp, prints events/s, and removes the database afterwards.

    python bench/ingest.py [--backend sqlite|postgresql|both] [--requests N] [--batches N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import orjson

POSTGRES_ADMIN_URL = os.environ.get(
    "AUDITWIRE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
START_TIMEOUT = 30.0  # seconds
STOP_TIMEOUT = 10.0  # seconds
REQUEST_TIMEOUT = 30.0  # seconds
PHASE_TIMEOUT = 120.0  # seconds per measured phase
CONCURRENCY = 32  # requests in flight for single events
BATCH_CONCURRENCY = 4  # batch requests in flight
BATCH_SIZE = 1_000  # events per batch request
WARMUP_REQUESTS = 200
JSON_HEADERS = {"Content-Type": "application/json"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    url: str
    token: str
    pid: int

    def cpu_seconds(self) -> float:
        """CPU time the server process has used (Linux /proc), load-independent."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@asynccontextmanager
async def fresh_database(backend: str, directory: Path) -> AsyncIterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{directory / 'auditwire.db'}"
        return
    name = f"auditwire_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        admin = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=10)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@asynccontextmanager
async def running_server(database_url: str, directory: Path) -> AsyncIterator[Server]:
    port = free_port()
    env = {
        **os.environ,
        "AUDITWIRE_DATABASE_URL": database_url,
        "AUDITWIRE_DATA_DIR": str(directory),
        "AUDITWIRE_SECRET_KEY": "",
    }
    # e.g. AUDITWIRE_BENCH_PREFIX="py-spy record -r 200 -f raw -o /tmp/ingest.txt --" to profile
    prefix = os.environ.get("AUDITWIRE_BENCH_PREFIX", "").split()
    command = [*prefix, sys.executable, "-m", "auditwire", "serve", "--host", "127.0.0.1"]
    process = await asyncio.create_subprocess_exec(
        *command,
        "--port",
        str(port),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        async with aiohttp.ClientSession() as session:
            while True:
                if process.returncode is not None or time.monotonic() > deadline:
                    process.kill()
                    error = await process.stderr.read() if process.stderr else b""
                    raise RuntimeError(f"auditwire did not start: {error.decode()}")
                try:
                    async with session.get(f"{url}/api/v4/user") as response:
                        if response.status == 401:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
        token = (directory / "initial_root_token").read_text().strip()
        yield Server(url, token, process.pid)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
        try:
            async with asyncio.timeout(STOP_TIMEOUT):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()


def event(index: int) -> dict[str, Any]:
    return {
        "event_type": "bench_event",
        "entity_type": "Group",
        "entity_path": "bench",
        "author": {"id": 1},
        "target": {"id": index, "type": "Thing", "details": f"thing {index}"},
        "details": {"custom_message": f"event {index}"},
        "ip_address": "127.0.0.1",
    }


async def drive(
    session: aiohttp.ClientSession,
    url: str,
    bodies: list[Any],
    concurrency: int,
) -> tuple[float, list[float]]:
    """POST every body with `concurrency` in flight; (elapsed seconds, latencies)."""
    # Bodies are encoded up front so the client spends its CPU on requests, not on JSON.
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(orjson.dumps(body))
    latencies: list[float] = []

    async def worker() -> None:
        while not queue.empty():
            body = queue.get_nowait()
            started = time.perf_counter()
            async with session.post(url, data=body, headers=JSON_HEADERS) as response:
                await response.read()
                if response.status != 201:
                    raise RuntimeError(f"ingestion answered {response.status}")
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    async with asyncio.timeout(PHASE_TIMEOUT):
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies


def report(
    backend: str, label: str, events: int, elapsed: float, latencies: list[float], cpu: float
) -> None:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000
    print(
        f"{backend:<10} {label:<32} {events:>7} events in {elapsed:6.2f} s = "
        f"{events / elapsed:>9,.0f} events/s  (p50 {p50:.1f} ms, p99 {p99:.1f} ms; "
        f"server CPU {cpu / events * 1e6:.0f} us/event)",
        flush=True,
    )


async def bench(backend: str, requests: int, batches: int) -> None:
    directory = Path(tempfile.mkdtemp(prefix="auditwire-bench-"))
    try:
        async with (
            fresh_database(backend, directory) as database_url,
            running_server(database_url, directory) as server,
        ):
            headers = {"PRIVATE-TOKEN": server.token}
            timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
            connector = aiohttp.TCPConnector(limit=CONCURRENCY)
            async with aiohttp.ClientSession(
                headers=headers, timeout=timeout, connector=connector
            ) as session:
                async with session.post(
                    f"{server.url}/api/v4/groups", json={"name": "Bench", "path": "bench"}
                ) as response:
                    assert response.status == 201, await response.text()
                ingest = f"{server.url}/api/v4/audit_events"
                await drive(session, ingest, [event(i) for i in range(WARMUP_REQUESTS)], 8)
                cpu = server.cpu_seconds()
                elapsed, latencies = await drive(
                    session, ingest, [event(i) for i in range(requests)], CONCURRENCY
                )
                cpu = server.cpu_seconds() - cpu
                label = f"single-event, {CONCURRENCY} in flight"
                report(backend, label, requests, elapsed, latencies, cpu)
                bodies = [[event(i) for i in range(BATCH_SIZE)] for _ in range(batches)]
                cpu = server.cpu_seconds()
                elapsed, latencies = await drive(session, ingest, bodies, BATCH_CONCURRENCY)
                cpu = server.cpu_seconds() - cpu
                label = f"batches of {BATCH_SIZE}, {BATCH_CONCURRENCY} in flight"
                report(backend, label, batches * BATCH_SIZE, elapsed, latencies, cpu)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--requests", type=int, default=5_000, help="single-event requests")
    parser.add_argument("--batches", type=int, default=40, help="batches of 1,000 events")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        try:
            asyncio.run(bench(backend, args.requests, args.batches))
        except (OSError, asyncpg.PostgresError) as error:
            if backend != "postgresql":
                raise
            print(f"postgresql skipped: {POSTGRES_ADMIN_URL} is not reachable ({error!r})")


if __name__ == "__main__":
    main()
