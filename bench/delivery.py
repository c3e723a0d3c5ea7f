"""Delivery throughput, latency, isolation and memory, printed in one run.

    .venv/bin/python bench/delivery.py [--quick] [--only sqlite|postgresql]
        [--end-to-end | --latency | --drain | --batch]

Starts its own receiver on 127.0.0.1 in a separate process (so it does not share the
sender's event loop or CPU time slice), then measures:
  1. the ceiling: a bare aiohttp POST loop at the same concurrency with the same payloads;
  2. auditwire end to end, ingestion (services.events.record in batches) to all delivered,
     on SQLite and on PostgreSQL, as a ratio to a ceiling measured just before: with the
     worker in the recording process, and with separate `auditwire worker` processes; each
     repeated, with the CPU per event of auditwire, the PostgreSQL server and the receiver;
  3. p50/p99 latency from ingestion to delivery at 500 events/s offered (one event per
     transaction), with serve's worker process (woken by the recording process's commits)
     and with the worker in the recording process;
  4. deliveries/s with 5 destinations;
  5. a healthy destination's throughput with a blackholed neighbour, as a ratio to alone,
     in alternating pairs;
  6. peak RSS of an `auditwire worker` process draining a backlog of 100,000 deliveries, and
     its CPU time per delivery against the bare loop's per request.
Every loop is bounded in count and time. Needs PostgreSQL at AUDITWIRE_BENCH_POSTGRES_URL
(default postgresql://postgres@127.0.0.1:5432/postgres) for the PostgreSQL figures.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TypeVar

import aiohttp
import asyncpg
import orjson
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import _batch
import _drain
import _receiver
from auditwire.config import Settings, async_database_url
from auditwire.crypto import SecretBox, load_or_create_key
from auditwire.domain.categories import HTTP
from auditwire.domain.events import AuditEvent, Author, EntityType, NewAuditEvent, Target
from auditwire.domain.owner import Owner
from auditwire.domain.signing import new_signing_secret
from auditwire.services import events as event_service
from auditwire.store import Store
from auditwire.store import deliveries as deliveries_store
from auditwire.store import destinations as dest_store
from auditwire.store.migrate import migrate
from auditwire.streaming import DeliveryWorker
from auditwire.streaming.child import WorkerProcess

POSTGRES_ADMIN_URL = os.environ.get(
    "AUDITWIRE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
CONCURRENCY = 16  # the per-destination budget, and the ceiling loop's concurrency
INGEST_BATCH = 100  # events per recording transaction in throughput runs
LATENCY_RATE = 500  # events per second offered
WORKER_PROCESSES = 2  # PostgreSQL end to end in separate processes: one per core here
RUN_LIMIT = 120.0  # seconds any single measurement may take
RSS_SAMPLE = 0.05  # seconds between two samples of the worker's memory
WARM_UP = 1_000  # deliveries of a draining worker before its CPU time is counted
AUTHOR = Author(id=1, name="Administrator")
T = TypeVar("T")


@dataclass
class Sizes:
    ceiling: int
    e2e: int
    e2e_rounds: int
    latency_seconds: float
    fanout_events: int
    isolation: int
    backlog: int


FULL = Sizes(
    ceiling=10_000,
    e2e=20_000,
    e2e_rounds=3,
    latency_seconds=10.0,
    fanout_events=5_000,
    isolation=10_000,
    backlog=100_000,
)
QUICK = Sizes(
    ceiling=3_000,
    e2e=3_000,
    e2e_rounds=1,
    latency_seconds=3.0,
    fanout_events=1_000,
    isolation=2_000,
    backlog=10_000,
)


def event(n: int) -> NewAuditEvent:
    return NewAuditEvent(
        event_type="user_signed_in",
        author=AUTHOR,
        entity_type=EntityType.USER,
        entity_id=1 + n % 1000,
        entity_path=f"user{n % 1000}",
        target=Target(1 + n % 1000, "User", f"user{n % 1000}"),
        ip_address="127.0.0.1",
        custom_message="signed in with a password",
    )


# The receiver process ----------------------------------------------------------------------


class ReceiverProcess:
    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipe, child = context.Pipe()
        self._process = context.Process(target=_receiver.run, args=(child,), daemon=True)

    def __enter__(self) -> ReceiverProcess:
        self._process.start()
        self.port, self.blackhole_port = self._pipe.recv()
        self.base = f"http://127.0.0.1:{self.port}"
        return self

    def __exit__(self, *_exc: object) -> None:
        self._pipe.send("stop")
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()

    def url(self, n: int = 0) -> str:
        return f"{self.base}/hook/{n}"

    @property
    def blackhole_url(self) -> str:
        return f"http://127.0.0.1:{self.blackhole_port}/hook"


class Control:
    """Talks to the receiver process over its own HTTP endpoints."""

    def __init__(self, receiver: ReceiverProcess, session: aiohttp.ClientSession) -> None:
        self.receiver = receiver
        self.session = session

    async def reset(self, measure: bool = True) -> None:
        url = f"{self.receiver.base}/reset?measure={int(measure)}"
        async with self.session.post(url) as response:
            await response.read()

    async def stats(self) -> dict[str, float]:
        async with self.session.get(f"{self.receiver.base}/stats") as response:
            return dict(orjson.loads(await response.read()))

    async def latencies(self) -> list[float]:
        async with self.session.get(f"{self.receiver.base}/latencies") as response:
            return list(orjson.loads(await response.read()))

    async def wait(self, key: str, count: int, bound: float = RUN_LIMIT) -> float:
        """Until the receiver has counted `count` (at most `bound` s); the wall-clock time."""
        url = f"{self.receiver.base}/wait?key={key}&count={count}&within={bound}"
        timeout = aiohttp.ClientTimeout(total=bound + 5)
        async with self.session.get(url, timeout=timeout) as response:
            response.raise_for_status()
            return float(await response.text())


# Databases ---------------------------------------------------------------------------------


@asynccontextmanager
async def database(kind: str, workdir: Path) -> AsyncIterator[str]:
    """A fresh, migrated database; its plain URL."""
    if kind == "sqlite":
        path = workdir / f"bench-{uuid.uuid4().hex[:8]}.db"
        url = f"sqlite:///{path}"
        store = Store(async_database_url(url))
        await migrate(store)
        await store.close()
        yield url
        return
    name = f"auditwire_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        store = Store(async_database_url(url))
        await migrate(store)
        await store.close()
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def bench_settings(url: str, workdir: Path) -> Settings:
    return Settings(
        data_dir=workdir, database_url=url, allow_local_requests=True, secret_key="bench-key"
    )


async def add_destination(store: Store, box: SecretBox, url: str) -> int:
    async with store.write() as conn:
        return await dest_store.insert_destination(
            conn,
            box,
            owner=Owner.instance(),
            category=HTTP,
            name=f"bench-{uuid.uuid4().hex[:8]}",
            config={"url": url},
            secret_token="bench-token-0123456789ab",
            signing_secret=new_signing_secret(),
            now=datetime.now(UTC),
        )


async def ingest(store: Store, count: int, batch: int = INGEST_BATCH) -> None:
    for start in range(0, count, batch):
        async with store.write() as conn:
            await event_service.record(
                conn, [event(n) for n in range(start, min(count, start + batch))]
            )


@asynccontextmanager
async def worker_processes(url: str, workdir: Path, count: int) -> AsyncIterator[list[int]]:
    """`count` `auditwire worker` processes on the database at `url`; their pids. SIGTERM and
    a wait when the block ends."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDITWIRE_")}
    env.update(
        AUDITWIRE_DATABASE_URL=url,
        AUDITWIRE_DATA_DIR=str(workdir),
        AUDITWIRE_SECRET_KEY="bench-key",
        AUDITWIRE_ALLOW_LOCAL_REQUESTS="true",
    )
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "auditwire",
            "worker",
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        for _ in range(count)
    ]
    try:
        yield [p.pid for p in processes]
    finally:
        for process in processes:
            if process.returncode is None:
                process.terminate()
        for process in processes:
            await process.wait()


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time of these processes so far."""
    return sum(sum(psutil.Process(pid).cpu_times()[:2]) for pid in pids)


def postgres_cpu_seconds() -> float:
    """CPU time of this machine's PostgreSQL server so far: its live processes, and the
    backends that have exited (counted in the postmaster's children times); 0 when
    unreadable."""
    total = 0.0
    for process in psutil.process_iter(["name", "ppid"]):
        if process.info["name"] not in ("postgres", "postmaster"):
            continue
        with suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system
            if process.info["ppid"] == 1 or psutil.Process(process.info["ppid"]).name() not in (
                "postgres",
                "postmaster",
            ):
                total += times.children_user + times.children_system
    return total


@dataclass
class OthersCpu:
    """CPU seconds the receiver and the PostgreSQL server spent during a measurement."""

    receiver: float = 0.0
    postgres: float = 0.0

    @classmethod
    async def during(cls, control: Control, measurement: Awaitable[T]) -> tuple[T, OthersCpu]:
        receiver, postgres = (await control.stats())["cpu"], postgres_cpu_seconds()
        result = await measurement
        spent = cls((await control.stats())["cpu"] - receiver, postgres_cpu_seconds() - postgres)
        return result, spent


# Measurements ------------------------------------------------------------------------------


async def ceiling(control: Control, count: int) -> tuple[float, float]:
    """Requests/s of a bare aiohttp loop: same concurrency, same payloads, same headers; and
    the CPU time this process spent per request (seconds)."""
    await control.reset(measure=True)
    now = datetime.now(UTC)
    bodies = [stored(event(n), n, now).stream_body() for n in range(count)]  # untimed
    headers = {"Content-Type": "application/json", "X-Gitlab-Event-Streaming-Token": "t" * 24}
    cpu = time.process_time()
    rate = await _drain.bare_loop(control.receiver.url(), bodies, [headers] * count)
    return rate, (time.process_time() - cpu) / count


def stored(new: NewAuditEvent, event_id: int, now: datetime) -> AuditEvent:
    """The event as auditwire stores and streams it: the ceiling sends the same bytes."""
    target = new.target
    return AuditEvent(
        id=event_id,
        event_type=new.event_type,
        author_id=new.author.id,
        author_name=new.author.name,
        entity_type=new.entity_type.value,
        entity_id=new.entity_id,
        entity_path=new.entity_path,
        target_id=target.id if target else None,
        target_type=target.type if target else None,
        target_details=target.details if target else None,
        ip_address=new.ip_address,
        details=new.full_details(),
        created_at=now,
        stream_only=False,
        root_group_id=None,
    )


async def end_to_end(control: Control, kind: str, workdir: Path, count: int) -> tuple[float, float]:
    """Events/s from the first recorded event to the last one delivered (worker in-process);
    and the CPU time this process (recording and worker) spent per event (seconds)."""
    async with database(kind, workdir) as url:
        settings = bench_settings(url, workdir)
        store = Store(settings.resolved_database_url)
        box = SecretBox(load_or_create_key(settings.secret_key, workdir))
        await add_destination(store, box, control.receiver.url())
        worker = DeliveryWorker(settings, store, box)
        await worker.start()
        await control.reset()
        started, cpu = time.time(), time.process_time()
        feeding = asyncio.create_task(ingest(store, count), name="bench-ingest")
        finished = await control.wait("ids", count)
        cpu = time.process_time() - cpu
        await feeding
        await worker.stop()
        if os.environ.get("BENCH_VERBOSE"):
            print(f"  {kind} worker: {dict(worker.stats)}")
        await store.close()
    return count / (finished - started), cpu / count


async def end_to_end_processes(
    control: Control, kind: str, workdir: Path, count: int, workers: int
) -> tuple[float, float]:
    """As `end_to_end`, with delivery in `workers` separate `auditwire worker` processes (the
    production shape: API processes record, worker processes deliver) and recording here.
    Also the CPU time of this process and the workers per event (seconds)."""
    async with database(kind, workdir) as url:
        settings = bench_settings(url, workdir)
        store = Store(settings.resolved_database_url)
        box = SecretBox(load_or_create_key(settings.secret_key, workdir))
        await add_destination(store, box, control.receiver.url())
        async with worker_processes(url, workdir, workers) as pids:
            # Untimed: one event through, so that every worker is up before the clock starts.
            await control.reset()
            await ingest(store, workers * 20)
            await control.wait("ids", workers * 20)
            await asyncio.sleep(0.5)
            await control.reset()
            started, cpu = time.time(), time.process_time() + cpu_seconds(pids)
            feeding = asyncio.create_task(ingest(store, count), name="bench-ingest")
            finished = await control.wait("ids", count)
            cpu = time.process_time() + cpu_seconds(pids) - cpu
            await feeding
        await store.close()
    return count / (finished - started), cpu / count


async def latency(
    control: Control, kind: str, workdir: Path, seconds: float, child: bool = False
) -> list[float]:
    """Ingestion-to-delivery latencies at LATENCY_RATE events/s, one event per transaction:
    the worker in this process, or (`child`) in serve's worker process, woken by this
    process's commits as the API's wake it."""
    async with database(kind, workdir) as url:
        settings = bench_settings(url, workdir)
        store = Store(settings.resolved_database_url)
        box = SecretBox(load_or_create_key(settings.secret_key, workdir))
        await add_destination(store, box, control.receiver.url())
        worker: DeliveryWorker | WorkerProcess
        remove = None
        if child:
            worker = WorkerProcess(settings)
            await worker.start()
            remove = deliveries_store.on_outbox_commit(store, worker.wake)
            await _drain.until_running(worker)
        else:
            worker = DeliveryWorker(settings, store, box)
            await worker.start()
        await control.reset()
        total = int(LATENCY_RATE * seconds)
        started = time.time()
        for n in range(total):
            delay = started + n / LATENCY_RATE - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            async with store.write() as conn:
                await event_service.record(conn, [event(n)])
        await control.wait("ids", total)
        samples = await control.latencies()
        if remove is not None:
            remove()
        await worker.stop()
        await store.close()
    return samples


async def latencies(control: Control, kinds: list[str], workdir: Path, seconds: float) -> None:
    for kind in kinds:
        for child, where in ((True, "serve's worker process"), (False, "worker in-process")):
            samples = await latency(control, kind, workdir, seconds, child)
            print(
                f"{kind}: latency at {LATENCY_RATE} events/s offered ({len(samples):,} "
                f"events), {where}: p50 {percentile(samples, 50) * 1000:.1f} ms, "
                f"p99 {percentile(samples, 99) * 1000:.1f} ms"
            )


async def fan_out(control: Control, kind: str, workdir: Path, events: int) -> float:
    """Deliveries/s to 5 destinations, from a backlog recorded before the worker starts."""
    async with database(kind, workdir) as url:
        settings = bench_settings(url, workdir)
        store = Store(settings.resolved_database_url)
        box = SecretBox(load_or_create_key(settings.secret_key, workdir))
        for n in range(5):
            await add_destination(store, box, control.receiver.url(n))
        await ingest(store, events, 1000)
        await control.reset()
        worker = DeliveryWorker(settings, store, box)
        started = time.time()
        await worker.start()
        finished = await control.wait("requests", events * 5)
        await worker.stop()
        await store.close()
    return events * 5 / (finished - started)


async def isolation(
    control: Control, kind: str, workdir: Path, events: int, rounds: int = 3
) -> tuple[list[float], list[float]]:
    """A healthy destination's deliveries/s alone, then beside a blackholed one, `rounds`
    times: the runs alternate, so that each pair saw the machine under much the same load."""
    rates: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(rounds):
        for blackholed in (False, True):
            async with database(kind, workdir) as url:
                settings = bench_settings(url, workdir)
                store = Store(settings.resolved_database_url)
                box = SecretBox(load_or_create_key(settings.secret_key, workdir))
                await add_destination(store, box, control.receiver.url())
                if blackholed:
                    await add_destination(store, box, control.receiver.blackhole_url)
                await ingest(store, events, 1000)
                await control.reset()
                worker = DeliveryWorker(settings, store, box)
                started = time.time()
                await worker.start()
                finished = await control.wait("ids", events)
                await worker.stop(grace=0.0)
                await store.close()
            rates[blackholed].append(events / (finished - started))
    return rates[False], rates[True]


async def backlog_memory(
    control: Control, kind: str, workdir: Path, count: int
) -> tuple[float, float, float]:
    """Peak RSS (MB) of an `auditwire worker` process draining `count` deliveries; its rate;
    and its CPU time per delivery (seconds), counted from the first WARM_UP deliveries on so
    that start-up is left out."""
    async with database(kind, workdir) as url:
        settings = bench_settings(url, workdir)
        store = Store(settings.resolved_database_url)
        box = SecretBox(load_or_create_key(settings.secret_key, workdir))
        await add_destination(store, box, control.receiver.url())
        await ingest(store, count, 1000)
        await store.close()
        await control.reset()
        async with worker_processes(url, workdir, 1) as pids:
            watched = psutil.Process(pids[0])
            peak = 0

            async def sample() -> None:
                nonlocal peak
                for _ in range(int(RUN_LIMIT * 3 / RSS_SAMPLE)):
                    peak = max(peak, watched.memory_info().rss)
                    await asyncio.sleep(RSS_SAMPLE)

            sampler = asyncio.create_task(sample(), name="bench-rss")
            started = time.time()
            try:
                await control.wait("ids", WARM_UP, RUN_LIMIT)
                cpu = cpu_seconds(pids)
                finished = await control.wait("ids", count, RUN_LIMIT * 3)
                cpu = cpu_seconds(pids) - cpu
            finally:
                sampler.cancel()
    return peak / 1e6, count / (finished - started), cpu / (count - WARM_UP)


def percentile(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1] if samples else 0.0


async def main(
    quick: bool,
    only: set[str],
    end_to_end_only: bool,
    batch: bool = False,
    batch_events: int | None = None,
    drain: bool = False,
    batch_drain: int | None = None,
    latency_only: bool = False,
) -> None:
    sizes = QUICK if quick else FULL
    kinds = [k for k in ("sqlite", "postgresql") if not only or k in only]
    if latency_only:
        with ReceiverProcess() as receiver, tempfile.TemporaryDirectory() as tmp:
            async with aiohttp.ClientSession() as session:
                control = Control(receiver, session)
                await latencies(control, kinds, Path(tmp), sizes.latency_seconds)
        return
    if drain or not batch:
        with tempfile.TemporaryDirectory() as tmp:
            drain_sizes = _drain.DRAIN_QUICK if quick else _drain.DRAIN_FULL
            await _drain.section(sys.modules[__name__], kinds, Path(tmp), drain_sizes)
        if drain:
            return
    with ReceiverProcess() as receiver, tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        async with aiohttp.ClientSession() as session:
            control = Control(receiver, session)
            print(f"machine: {os.cpu_count()} CPUs; python {sys.version.split()[0]}")
            top, _cpu = await ceiling(control, sizes.ceiling)
            print(f"ceiling (bare aiohttp POST loop, concurrency {CONCURRENCY}): {top:,.0f} req/s")
            if batch:
                batch_sizes = _batch.BATCH_QUICK if quick else _batch.BATCH_FULL
                if batch_events is not None:
                    batch_sizes = replace(batch_sizes, rss_events=batch_events)
                if batch_drain is not None:
                    batch_sizes = replace(batch_sizes, drain=batch_drain)
                await _batch.section(
                    sys.modules[__name__],  # type: ignore[arg-type]
                    control,
                    kinds,
                    workdir,
                    batch_sizes,
                    lambda c: ceiling(c, sizes.ceiling),
                )
                return
            for kind in ("sqlite", "postgresql"):
                if only and kind not in only:
                    continue
                # The production shape: delivery in worker processes of its own (SQLite
                # supports one; PostgreSQL any number, here one per core).
                workers = 1 if kind == "sqlite" else WORKER_PROCESSES
                shapes = {
                    "worker in-process": partial(end_to_end, control, kind, workdir, sizes.e2e),
                    f"{workers} worker process(es)": partial(
                        end_to_end_processes, control, kind, workdir, sizes.e2e, workers
                    ),
                }
                for shape, measure in shapes.items():
                    ratios = []
                    for _ in range(sizes.e2e_rounds):
                        # The machine may be shared: each run is compared with a ceiling
                        # measured right before it, and the runs are repeated.
                        near, near_cpu = await ceiling(control, sizes.ceiling)
                        (rate, cpu), others = await OthersCpu.during(control, measure())
                        ratios.append(rate / near)
                        # CPU time varies less than rates on a shared machine: per event,
                        # auditwire's processes (recording, worker, sending), the PostgreSQL
                        # server, the receiver; and the bare loop's per request.
                        print(
                            f"{kind}: end to end {sizes.e2e:,} events, {shape}: "
                            f"{rate:,.0f} events/s = {rate / near:.2f} of the ceiling just "
                            f"before ({near:,.0f} req/s); CPU per event: auditwire "
                            f"{cpu * 1e6:.0f} µs, PostgreSQL server "
                            f"{others.postgres / sizes.e2e * 1e6:.0f} µs, receiver "
                            f"{others.receiver / sizes.e2e * 1e6:.0f} µs; bare loop "
                            f"{near_cpu * 1e6:.0f} µs per request"
                        )
                    print(
                        f"{kind}: end to end, {shape}: median {statistics.median(ratios):.2f} "
                        f"of the ceiling over {len(ratios)} run(s)"
                    )
                if end_to_end_only:
                    continue
                await latencies(control, [kind], workdir, sizes.latency_seconds)
                five = await fan_out(control, kind, workdir, sizes.fanout_events)
                print(f"{kind}: 5 destinations: {five:,.0f} deliveries/s")
                alone, beside = await isolation(control, kind, workdir, sizes.isolation)
                runs = list(zip(alone, beside, strict=True))
                pairs = [b / a for a, b in runs]
                print(
                    f"{kind}: healthy destination alone / beside a blackholed one, per run: "
                    + ", ".join(f"{a:,.0f} / {b:,.0f}/s" for a, b in runs)
                    + f"; median of the paired ratios {statistics.median(pairs):.2f}, "
                    f"best beside / best alone {max(beside) / max(alone):.2f}"
                )
                _near, bare_cpu = await ceiling(control, sizes.ceiling)
                peak, drain, drain_cpu = await backlog_memory(control, kind, workdir, sizes.backlog)
                print(
                    f"{kind}: worker process draining {sizes.backlog:,} deliveries: peak RSS "
                    f"{peak:.0f} MB, {drain:,.0f} deliveries/s, CPU {drain_cpu * 1e6:.0f} µs "
                    f"per delivery = {drain_cpu / bare_cpu:.1f} times the bare loop's per request "
                    f"({bare_cpu * 1e6:.0f} µs, measured just before)"
                )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--only", action="append", default=[], choices=["sqlite", "postgresql"])
    parser.add_argument(
        "--end-to-end", action="store_true", help="only the ceiling and end-to-end figures"
    )
    parser.add_argument(
        "--batch",
        action="store_true",
        help="only the ceiling and the batch section (HEC drain, latency, RSS)",
    )
    parser.add_argument(
        "--batch-events",
        type=int,
        default=None,
        metavar="N",
        help="events of the backlog drained while the RSS is watched (default 1,000,000)",
    )
    parser.add_argument(
        "--drain",
        action="store_true",
        help="only the per-event drain and end to end against a loopback nginx",
    )
    parser.add_argument(
        "--batch-drain",
        type=int,
        default=None,
        metavar="N",
        help="events of the replayed backlog whose drain is timed (default 100,000)",
    )
    parser.add_argument(
        "--latency",
        action="store_true",
        help="only the latency at 500 events/s, serve's worker process and in-process",
    )
    arguments = parser.parse_args()
    measured = (
        arguments.quick,
        set(arguments.only),
        arguments.end_to_end,
        arguments.batch,
        arguments.batch_events,
        arguments.drain,
        arguments.batch_drain,
        arguments.latency,
    )
    try:
        import uvloop

        uvloop.run(main(*measured))
    except ImportError:
        asyncio.run(main(*measured))
