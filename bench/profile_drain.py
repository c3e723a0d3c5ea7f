"""A py-spy profile of the per-event drain alone, per thread, and the worker's pipe.

    .venv/bin/python bench/profile_drain.py [--kind sqlite|postgresql] [--count 60000]
        [--raw /tmp/drain.txt] [--no-profile]

Writes a backlog of `count` replayed deliveries to a loopback nginx destination (as
`bench/delivery.py --drain` does), attaches py-spy (250 Hz, every thread) to this process
once the backlog is written, and drains it with a worker in this process. Prints the drain's
rate, CPU per delivery and loop-thread busy share, then per thread its samples and the frames
with the largest inclusive and own shares. With `--no-profile` it samples the worker instead
(every 2 ms: how often its budget of 16 was full, and how often nothing was in flight).
Needs nginx, and PostgreSQL for `--kind postgresql`; bounded in time like the drain bench.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from subprocess import DEVNULL

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import _drain
import delivery as b
from _nginx import Nginx
from auditwire.crypto import SecretBox, load_or_create_key
from auditwire.store import Store
from auditwire.streaming import DeliveryWorker

PY_SPY = Path(sys.executable).parent / "py-spy"
BUDGET = 16  # the per-destination budget the bench runs with
LINE = re.compile(r":\d+\)")


async def drained(kind: str, count: int, raw: Path | None) -> None:
    with Nginx() as nginx, tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        async with b.database(kind, workdir) as db_url:
            settings = b.bench_settings(db_url, workdir)
            store = Store(settings.resolved_database_url)
            box = SecretBox(load_or_create_key(settings.secret_key, workdir))
            await _drain.replayed_backlog(b, store, box, nginx.url(), count)
            spy = None
            if raw is not None:
                command = [str(PY_SPY), "record", "--pid", str(os.getpid()), "-r", "250"]
                command += ["-f", "raw", "--threads", "--nonblocking", "-o", str(raw)]
                spy = await asyncio.create_subprocess_exec(*command, stdout=DEVNULL)
                await asyncio.sleep(1.0)  # attached
            worker = DeliveryWorker(settings, store, box)
            full = none = samples = 0
            done = asyncio.Event()

            async def sample() -> None:
                nonlocal full, none, samples
                while not done.is_set():
                    await asyncio.sleep(0.002)
                    samples += 1
                    full += worker.in_flight >= BUDGET
                    none += worker.in_flight == 0

            wall, cpu, thread = time.perf_counter(), time.process_time(), time.thread_time()
            await worker.start()
            sampler = asyncio.create_task(sample()) if spy is None else None
            finished = await _drain.until_empty(store, wall + _drain.LIMIT)
            cpu, thread = time.process_time() - cpu, time.thread_time() - thread
            done.set()
            if sampler is not None:
                await sampler
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                async with asyncio.timeout(60):
                    await spy.wait()
            await worker.stop()
            await store.close()
    elapsed = finished - wall
    print(
        f"{kind}: drain of {count:,}: {count / elapsed:,.0f} /s; CPU {cpu / count * 1e6:.0f} µs "
        f"per delivery; event-loop thread busy {thread / elapsed:.0%}"
    )
    if samples:
        print(f"{BUDGET} in flight {full / samples:.0%} of the time, none {none / samples:.0%}")


def summary(raw: Path, top: int = 25) -> None:
    """Per thread: its samples, the frames with the largest inclusive and own shares."""
    totals: Counter[str] = Counter()
    inclusive: defaultdict[str, Counter[str]] = defaultdict(Counter)
    own: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for line in raw.read_text().splitlines():
        if not line.strip():
            continue
        stack, count = line.rsplit(" ", 1)
        thread, *frames = (LINE.sub(")", frame) for frame in stack.split(";"))
        totals[thread] += int(count)
        for frame in set(frames):
            inclusive[thread][frame] += int(count)
        if frames:
            own[thread][frames[-1]] += int(count)
    for thread, total in totals.most_common(3):
        print(f"\n{thread}: {total} samples ({total / 250:.1f} s)")
        for frame, count in inclusive[thread].most_common(top):
            print(f"  {count / total:6.1%}  {frame}")
        print("  own time:")
        for frame, count in own[thread].most_common(top // 2):
            print(f"  {count / total:6.1%}  {frame}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--count", type=int, default=60_000)
    parser.add_argument("--raw", type=Path, default=Path(tempfile.gettempdir()) / "drain.txt")
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args()
    raw = None if args.no_profile else args.raw
    asyncio.run(drained(args.kind, args.count, raw))
    if raw is not None:
        summary(raw)


if __name__ == "__main__":
    main()
