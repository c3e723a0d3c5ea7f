"""The per-event drain and end to end against a loopback nginx, beside a bare aiohttp loop
to the same nginx: the `bench/delivery.py` section that holds issue 12's figures.

    .venv/bin/python bench/delivery.py --drain [--quick] [--only sqlite|postgresql]

In one run, for each backend:
  1. the bare loops: aiohttp, and auditwire's own client (`streaming/sinks/_wire.py`, the
     per-event sink's), each 16 in flight, the same bodies and the same headers auditwire
     sends (the signature computed beforehand, untimed), to the same nginx;
  2. drain: a backlog of replayed deliveries (events recorded with no destination, then
     replayed to a new HTTP destination), drained by the worker process `auditwire serve`
     supervises (`streaming.child.WorkerProcess`, timed from the first deliveries settled,
     so that the interpreter's start is left out), and by a worker in this process (the
     `serve --worker-in-process` shape); deliveries/s, the CPU per delivery of the process
     that delivers, and its event-loop thread's busy share (its CPU time over the wall time
     of the drain: the rest it spent waiting in the selector);
  3. end to end: events recorded in batches of 100 (as the ingestion API commits them) to
     all delivered, with serve's worker process (woken by this process's commits, as the
     API's wake it), with the worker in the recording process, and (PostgreSQL) with
     `auditwire worker` processes;
each as a ratio to the bare aiohttp loop measured just before it (the own client's bare loop
too).
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import sqlalchemy as sa

from auditwire.crypto import SecretBox, load_or_create_key
from auditwire.domain.owner import Owner
from auditwire.domain.routing import Route
from auditwire.domain.signing import sign, signing_key
from auditwire.services import events as event_service
from auditwire.store import Store, delivery_ops
from auditwire.store import deliveries as deliveries_store
from auditwire.store import destinations as dest_store
from auditwire.store.schema import deliveries
from auditwire.streaming import DeliveryWorker
from auditwire.streaming.child import WorkerProcess

CONCURRENCY = 16
REPLAY_SLACK = timedelta(minutes=5)
POLL = 0.05  # seconds between two counts of what is left to deliver
FIRST_POLL = 0.005  # seconds between two counts while waiting for the first deliveries
LIMIT = 300.0  # seconds a drain or an end-to-end run may take


@dataclass
class DrainSizes:
    bare: int
    drain: int
    e2e: int
    rounds: int


DRAIN_FULL = DrainSizes(bare=20_000, drain=60_000, e2e=20_000, rounds=3)
DRAIN_QUICK = DrainSizes(bare=10_000, drain=20_000, e2e=10_000, rounds=1)


async def bare_loop(url: str, bodies: list[bytes], headers: list[dict[str, str]]) -> float:
    """Requests/s of a bare aiohttp POST loop, CONCURRENCY in flight."""
    count = len(bodies)
    next_n = 0
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def loop() -> None:
            nonlocal next_n
            while next_n < count:
                n = next_n
                next_n += 1
                async with session.post(url, data=bodies[n], headers=headers[n]) as response:
                    await response.read()

        started = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(CONCURRENCY)))
        return count / (time.perf_counter() - started)


async def bare_with_cpu(
    url: str, bodies: list[bytes], headers: list[dict[str, str]]
) -> tuple[float, float]:
    """The bare loop's requests/s and this process's CPU seconds per request."""
    cpu = time.process_time()
    rate = await bare_loop(url, bodies, headers)
    return rate, (time.process_time() - cpu) / len(bodies)


async def bare_wire_loop(url: str, bodies: list[bytes], headers: list[dict[str, str]]) -> float:
    """Requests/s of a bare POST loop of auditwire's own client, CONCURRENCY in flight, each
    request's headers encoded from its dict (the sink encodes its constant ones once)."""
    from yarl import URL

    from auditwire.streaming.sinks._wire import Origin, WireClient

    parsed = URL(url)
    origin = Origin(parsed.raw_host or "", parsed.port or 80, parsed.scheme == "https")
    line = f"POST {parsed.raw_path_qs} HTTP/1.1\r\nHost: {parsed.host_port_subcomponent}\r\n"
    client = WireClient(
        timeout=8.0,
        total=24.0,
        connections=CONCURRENCY,
        keepalive=30.0,
        body_limit=64 * 1024,
        guarded=False,
    )
    await client.start()
    count = len(bodies)
    next_n = 0

    async def loop() -> None:
        nonlocal next_n
        while next_n < count:
            n = next_n
            next_n += 1
            head = line + "".join(f"{k}: {v}\r\n" for k, v in headers[n].items())
            body = bodies[n]
            await client.post(origin, f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)

    try:
        started = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(CONCURRENCY)))
        return count / (time.perf_counter() - started)
    finally:
        await client.close()


def bare_payloads(b: Any, count: int) -> tuple[list[bytes], list[dict[str, str]]]:
    """The bodies and headers auditwire sends for `count` events (untimed)."""
    now = datetime.now(UTC)
    key = signing_key("whsec_" + "A" * 32)
    bodies, headers = [], []
    for n in range(count):
        body = b.stored(b.event(n), n + 1, now).stream_body()
        stamp = int(time.time())
        bodies.append(body)
        headers.append(
            {
                "Content-Type": "application/json",
                "User-Agent": "auditwire",
                "X-Gitlab-Event-Streaming-Token": "t" * 24,
                "X-Gitlab-Audit-Event-Type": "user_signed_in",
                "webhook-id": str(n + 1),
                "webhook-timestamp": str(stamp),
                "webhook-signature": sign(key, str(n + 1), stamp, body),
            }
        )
    return bodies, headers


async def add_http(store: Store, box: SecretBox, url: str) -> int:
    async with store.write() as conn:
        return await dest_store.insert_destination(
            conn,
            box,
            owner=Owner.instance(),
            category="http",
            name=f"bench-{uuid.uuid4().hex[:8]}",
            config={"url": url},
            secret_token="bench-token-0123456789ab",
            signing_secret="whsec_" + "A" * 32,
            now=datetime.now(UTC),
        )


async def replayed_backlog(b: Any, store: Store, box: SecretBox, url: str, count: int) -> None:
    started = datetime.now(UTC) - REPLAY_SLACK
    for first in range(0, count, 1000):
        async with store.write() as conn:
            await event_service.record(
                conn, [b.event(n) for n in range(first, min(count, first + 1000))]
            )
    destination = await add_http(store, box, url)
    async with store.write() as conn:
        route = Route(destination, None, frozenset(), (), ())
        await delivery_ops.replay(
            conn, route, started, datetime.now(UTC) + REPLAY_SLACK, datetime.now(UTC)
        )


async def left(store: Store) -> int:
    async with store.read() as conn:
        return int(
            (await conn.execute(sa.select(sa.func.count()).select_from(deliveries))).scalar_one()
        )


async def until_empty(store: Store, deadline: float) -> float:
    """Poll until no delivery is left (delivered rows are deleted); the time it was seen."""
    while time.perf_counter() < deadline:
        if await left(store) == 0:
            return time.perf_counter()
        await asyncio.sleep(POLL)
    raise TimeoutError("deliveries left after the time limit")


@dataclass
class Drain:
    rate: float
    cpu: float  # seconds of this process per delivery
    busy: float  # share of the wall time the loop thread was on a CPU


async def drain(b: Any, kind: str, workdir: Path, url: str, count: int) -> Drain:
    """A worker in this process draining a replayed backlog of `count` deliveries."""
    async with b.database(kind, workdir) as db_url:
        settings = b.bench_settings(db_url, workdir)
        store = Store(settings.resolved_database_url)
        box = SecretBox(load_or_create_key(settings.secret_key, workdir))
        await replayed_backlog(b, store, box, url, count)
        worker = DeliveryWorker(settings, store, box)
        wall, cpu, thread = time.perf_counter(), time.process_time(), time.thread_time()
        await worker.start()
        finished = await until_empty(store, wall + LIMIT)
        cpu, thread = time.process_time() - cpu, time.thread_time() - thread
        await worker.stop()
        await store.close()
    elapsed = finished - wall
    return Drain(count / elapsed, cpu / count, thread / elapsed)


async def drain_in_child(b: Any, kind: str, workdir: Path, url: str, count: int) -> Drain:
    """Serve's worker process draining a replayed backlog of `count` deliveries, timed from
    the first deliveries it settled to the last."""
    import psutil

    async with b.database(kind, workdir) as db_url:
        settings = b.bench_settings(db_url, workdir)
        store = Store(settings.resolved_database_url)
        box = SecretBox(load_or_create_key(settings.secret_key, workdir))
        await replayed_backlog(b, store, box, url, count)
        child = WorkerProcess(settings)
        await child.start()
        try:
            assert child.pid is not None
            process = psutil.Process(child.pid)
            deadline = time.perf_counter() + LIMIT
            for _ in range(int(LIMIT / FIRST_POLL)):  # until the first deliveries settle
                if (first := await left(store)) < count:
                    break
                await asyncio.sleep(FIRST_POLL)
            wall = time.perf_counter()
            cpu, thread = _cpu(process)
            finished = await until_empty(store, deadline)
            cpu2, thread2 = _cpu(process)
        finally:
            await child.stop()
            await store.close()
    elapsed = finished - wall
    return Drain(first / elapsed, (cpu2 - cpu) / first, (thread2 - thread) / elapsed)


async def until_running(child: WorkerProcess) -> None:
    for _ in range(int(LIMIT / POLL)):
        if child.running:
            return
        await asyncio.sleep(POLL)
    raise TimeoutError("the worker process did not start")


def _cpu(process: Any) -> tuple[float, float]:
    """A process's CPU seconds, and its main thread's (the event loop's)."""
    times = process.cpu_times()
    main = next((t for t in process.threads() if t.id == process.pid), None)
    return times.user + times.system, (main.user_time + main.system_time) if main else 0.0


async def end_to_end(
    b: Any, kind: str, workdir: Path, url: str, count: int, processes: int
) -> float:
    """Events/s from the first event recorded (batches of 100) to the last delivered, the
    worker in this process (`processes` 0), in serve's worker process woken by this
    process's commits (`processes` -1) or in `processes` `auditwire worker` processes."""
    async with b.database(kind, workdir) as db_url:
        settings = b.bench_settings(db_url, workdir)
        store = Store(settings.resolved_database_url)
        box = SecretBox(load_or_create_key(settings.secret_key, workdir))
        await add_http(store, box, url)
        if processes < 0:
            child = WorkerProcess(settings)
            await child.start()
            remove = deliveries_store.on_outbox_commit(store, child.wake)
            try:
                await until_running(child)
                await b.ingest(store, 20)  # untimed: the worker is up
                await until_empty(store, time.perf_counter() + LIMIT)
                await asyncio.sleep(0.5)
                rate = await _timed_e2e(b, store, count)
            finally:
                remove()
                await child.stop()
        elif processes:
            async with b.worker_processes(db_url, workdir, processes):
                await b.ingest(store, processes * 20)  # untimed: the workers are up
                await until_empty(store, time.perf_counter() + LIMIT)
                await asyncio.sleep(0.5)
                rate = await _timed_e2e(b, store, count)
        else:
            worker = DeliveryWorker(settings, store, box)
            await worker.start()
            rate = await _timed_e2e(b, store, count)
            await worker.stop()
        await store.close()
    return rate


async def _timed_e2e(b: Any, store: Store, count: int) -> float:
    started = time.perf_counter()
    await b.ingest(store, count)
    finished = await until_empty(store, started + LIMIT)
    return count / (finished - started)


async def section(b: Any, kinds: list[str], workdir: Path, sizes: DrainSizes) -> None:
    from _nginx import Nginx, binary

    if binary() is None:
        print("drain section skipped: nginx is not installed")
        return
    with Nginx() as nginx:
        url = nginx.url()
        bodies, headers = bare_payloads(b, sizes.bare)
        await bare_loop(url, bodies[:2000], headers[:2000])  # warm-up, untimed
        await bare_wire_loop(url, bodies[:2000], headers[:2000])

        async def near() -> tuple[float, float]:
            aiohttp_rate, aiohttp_cpu = await bare_with_cpu(url, bodies, headers)
            wire_rate = await bare_wire_loop(url, bodies, headers)
            print(
                f"bare loops to nginx: aiohttp {aiohttp_rate:,.0f} req/s; auditwire's own "
                f"client {wire_rate:,.0f} req/s = {wire_rate / aiohttp_rate:.2f}"
            )
            return aiohttp_rate, aiohttp_cpu

        for kind in kinds:
            await _kind(b, kind, workdir, url, sizes, near)


async def _kind(
    b: Any, kind: str, workdir: Path, url: str, sizes: DrainSizes, near: Callable[[], Any]
) -> None:
    drains = {"serve's worker process": drain_in_child, "worker in the process": drain}
    for where, measure in drains.items():
        ratios: list[float] = []
        for _ in range(sizes.rounds):
            bare, bare_cpu = await near()
            got = await measure(b, kind, workdir, url, sizes.drain)
            ratios.append(got.rate / bare)
            print(
                f"{kind}: bare aiohttp loop to nginx {bare:,.0f} req/s, {bare_cpu * 1e6:.0f} µs "
                f"CPU per request; drain of "
                f"{sizes.drain:,} replayed deliveries, {where}: {got.rate:,.0f} /s = "
                f"{got.rate / bare:.2f}; CPU {got.cpu * 1e6:.0f} µs per delivery; event-loop "
                f"thread busy {got.busy:.0%}"
            )
        print(f"{kind}: drain, {where}: median {_median(ratios):.2f} of the bare loop")
    shapes = {"serve's worker process": -1, "worker in the process": 0}
    if kind != "sqlite":
        shapes[f"{b.WORKER_PROCESSES} worker processes"] = b.WORKER_PROCESSES
    for shape, processes in shapes.items():
        ratios = []
        for _ in range(sizes.rounds):
            bare, _cpu = await near()
            rate = await end_to_end(b, kind, workdir, url, sizes.e2e, processes)
            ratios.append(rate / bare)
            print(
                f"{kind}: bare loop {bare:,.0f} req/s; end to end {sizes.e2e:,} events, "
                f"{shape}: {rate:,.0f} events/s = {rate / bare:.2f}"
            )
        print(f"{kind}: end to end, {shape}: median {_median(ratios):.2f} of the bare loop")


def _median(values: list[float]) -> float:
    return statistics.median(values)
