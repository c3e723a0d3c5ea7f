"""The batch section of bench/delivery.py: a Splunk HEC destination fed by the benchmark's
receiver (which parses HEC's stacked envelopes), measured against the per-request ceiling."""

from __future__ import annotations

import asyncio
import time
import uuid
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import psutil

from auditwire.crypto import SecretBox, load_or_create_key
from auditwire.domain.owner import Owner
from auditwire.domain.routing import Route
from auditwire.services import events as event_service
from auditwire.store import Store, delivery_ops
from auditwire.store import destinations as dest_store
from auditwire.streaming import DeliveryWorker

HEC_TOKEN = "00000000-0000-0000-0000-000000000000"
REPLAY_SLACK = timedelta(minutes=5)
WARM_UP = 2_000  # events delivered before a drain is timed


@dataclass(frozen=True, slots=True)
class BatchSizes:
    drain: int  # events of the replayed backlog drained to HEC
    latency_seconds: float  # seconds of offered load at the latency rate
    rss_events: int  # events of the backlog drained while the worker's RSS is watched


BATCH_FULL = BatchSizes(drain=100_000, latency_seconds=10.0, rss_events=1_000_000)
BATCH_QUICK = BatchSizes(drain=3_000, latency_seconds=2.0, rss_events=5_000)


class Bench(Protocol):
    """What the batch section uses of bench/delivery.py (passed in, not imported twice)."""

    LATENCY_RATE: int
    RUN_LIMIT: float
    RSS_SAMPLE: float
    WORKER_PROCESSES: int

    def database(self, kind: str, workdir: Path) -> Any: ...
    def bench_settings(self, url: str, workdir: Path) -> Any: ...
    def event(self, n: int) -> Any: ...
    def worker_processes(self, url: str, workdir: Path, count: int) -> Any: ...
    def percentile(self, samples: list[float], q: int) -> float: ...
    def cpu_seconds(self, pids: list[int]) -> float: ...


@dataclass(frozen=True, slots=True)
class Drained:
    rate: float  # events/s
    peak_rss: float  # MB, of the first worker process
    # CPU per event (µs) while timed: the worker processes, the PostgreSQL server's processes
    # for the bench database, the receiver
    cpu: tuple[float, float, float]

    def cpu_note(self) -> str:
        workers, postgres, receiver = self.cpu
        return (
            f"CPU per event: workers {workers:.1f} µs, PostgreSQL {postgres:.1f} µs, "
            f"receiver {receiver:.1f} µs"
        )


# PostgreSQL's own processes that work for every database (WAL and buffers written out).
POSTGRES_SHARED = ("walwriter", "checkpointer", "background writer")


def postgres_cpu(url: str) -> float:
    """CPU seconds so far of the PostgreSQL processes that serve the database at `url`: its
    backends (their title names the database) and the shared writers. Other databases'
    backends (other test runs on the same server) are left out. 0 on SQLite."""
    if url.startswith("sqlite"):
        return 0.0
    name = f" {url.rsplit('/', 1)[1]} "
    total = 0.0
    for process in psutil.process_iter(["name", "cmdline"]):
        if process.info["name"] not in ("postgres", "postmaster"):
            continue
        title = " ".join(process.info["cmdline"] or ()) + " "
        if name in title or any(shared in title for shared in POSTGRES_SHARED):
            with suppress(psutil.Error):
                times = process.cpu_times()
                total += times.user + times.system
    return total


async def add_hec(store: Store, box: SecretBox, base_url: str, max_wait_ms: int) -> int:
    async with store.write() as conn:
        return await dest_store.insert_destination(
            conn,
            box,
            owner=Owner.instance(),
            category="splunk",
            name=f"bench-hec-{uuid.uuid4().hex[:8]}",
            config={"url": base_url, "batch": {"maxEvents": 1000, "maxWaitMs": max_wait_ms}},
            secret_token=HEC_TOKEN,
            signing_secret="",
            now=datetime.now(UTC),
        )


async def replayed_backlog(b: Bench, store: Store, box: SecretBox, url: str, count: int) -> None:
    """`count` events recorded with no destination, then replayed to a new HEC destination:
    the backlog an operator's replay queues."""
    started = datetime.now(UTC) - REPLAY_SLACK
    for first in range(0, count, 1000):
        async with store.write() as conn:
            await event_service.record(
                conn, [b.event(n) for n in range(first, min(count, first + 1000))]
            )
    destination = await add_hec(store, box, url, 200)
    async with store.write() as conn:
        route = Route(destination, None, frozenset(), (), ())
        await delivery_ops.replay(
            conn, route, started, datetime.now(UTC) + REPLAY_SLACK, datetime.now(UTC)
        )


async def drain(
    b: Bench, control: Any, kind: str, workdir: Path, count: int, workers: int = 1
) -> Drained:
    """Events/s of `workers` worker processes draining a replayed backlog of `count` events
    to HEC (their lanes claim side by side), the first one's peak RSS (MB), and the CPU
    each part took per event."""
    async with b.database(kind, workdir) as url:
        settings = b.bench_settings(url, workdir)
        store = Store(settings.resolved_database_url)
        box = SecretBox(load_or_create_key(settings.secret_key, workdir))
        await replayed_backlog(b, store, box, control.receiver.base, count)
        await store.close()
        await control.reset()
        async with b.worker_processes(url, workdir, workers) as pids:
            watched = psutil.Process(pids[0])
            peak = 0

            async def sample() -> None:
                nonlocal peak
                for _ in range(int(b.RUN_LIMIT * 10 / b.RSS_SAMPLE)):
                    peak = max(peak, watched.memory_info().rss)
                    await asyncio.sleep(b.RSS_SAMPLE)

            sampler = asyncio.create_task(sample(), name="bench-batch-rss")
            # Timed from the first batches on: the process's start-up is left out.
            warm = min(WARM_UP, count // 10)

            async def cpu() -> tuple[float, float, float]:
                receiver = (await control.stats())["cpu"]
                return b.cpu_seconds(pids), postgres_cpu(url), receiver

            try:
                started = await control.wait("ids", warm, b.RUN_LIMIT)
                before = await cpu()
                finished = await control.wait("ids", count, b.RUN_LIMIT * 10)
                after = await cpu()
            finally:
                sampler.cancel()
        stats = await control.stats()
        if stats["events"] != count:  # each event once: none lost (waited for), none repeated
            raise AssertionError(f"{stats['events']:,} events arrived for {count:,} ids")
    timed = count - warm
    workers_cpu, server_cpu, receiver_cpu = (
        (later - earlier) / timed * 1e6 for later, earlier in zip(after, before, strict=True)
    )
    return Drained(
        timed / (finished - started), peak / 1e6, (workers_cpu, server_cpu, receiver_cpu)
    )


async def latency(b: Bench, control: Any, kind: str, workdir: Path, seconds: float) -> list[float]:
    """Recording-to-arrival latencies at LATENCY_RATE events/s, one event per transaction,
    to a HEC destination with maxWaitMs 200."""
    async with b.database(kind, workdir) as url:
        settings = b.bench_settings(url, workdir)
        store = Store(settings.resolved_database_url)
        box = SecretBox(load_or_create_key(settings.secret_key, workdir))
        await add_hec(store, box, control.receiver.base, 200)
        worker = DeliveryWorker(settings, store, box)
        await worker.start()
        await control.reset()
        total = int(b.LATENCY_RATE * seconds)
        started = time.time()
        for n in range(total):
            delay = started + n / b.LATENCY_RATE - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            async with store.write() as conn:
                await event_service.record(conn, [b.event(n)])
        await control.wait("ids", total)
        samples: list[float] = await control.latencies()
        await worker.stop()
        await store.close()
    return samples


async def section(
    b: Bench, control: Any, kinds: list[str], workdir: Path, sizes: BatchSizes, ceiling: Any
) -> None:
    """Print the batch figures for each backend, each drain beside a ceiling just before."""
    for kind in kinds:
        # As the end-to-end figures: one worker process on SQLite (it supports one), one
        # per core on PostgreSQL; and one process alone, for comparison.
        shapes = [1] if kind == "sqlite" else [1, b.WORKER_PROCESSES]
        for workers in shapes:
            near, _cpu = await ceiling(control)
            drained = await drain(b, control, kind, workdir, sizes.drain, workers)
            rate = drained.rate
            print(
                f"{kind}: batch drain of a replayed backlog of {sizes.drain:,} events to HEC, "
                f"{workers} worker process(es): {rate:,.0f} events/s = {rate / near:.2f} times "
                f"the ceiling just before ({near:,.0f} req/s; target 5); {drained.cpu_note()}"
            )
        samples = await latency(b, control, kind, workdir, sizes.latency_seconds)
        print(
            f"{kind}: batch latency at {b.LATENCY_RATE} events/s offered, maxWaitMs 200 "
            f"({len(samples):,} events): p50 {b.percentile(samples, 50) * 1000:.1f} ms, "
            f"p99 {b.percentile(samples, 99) * 1000:.1f} ms"
        )
        if not sizes.rss_events:
            continue
        big = await drain(b, control, kind, workdir, sizes.rss_events)
        print(
            f"{kind}: worker process draining {sizes.rss_events:,} events to HEC: peak RSS "
            f"{big.peak_rss:.0f} MB (target < 300), {big.rate:,.0f} events/s"
        )
