"""What the delivery log costs: writing attempt records with the outcomes, and pruning them.

    .venv/bin/python bench/delivery_log.py

On SQLite and on PostgreSQL, prints:
  1. microseconds per attempt record written, in batches of 500 (the worker writes one batch
     per settle, in the outcomes' transaction), best of 20 batches;
  2. attempt records pruned per second, 20,000 old records among 5,000 recent ones.
Every loop is bounded in count. Needs PostgreSQL at AUDITWIRE_BENCH_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/postgres) for the PostgreSQL figures.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from auditwire.domain.delivery_log import AttemptOutcome, AttemptRecord
from auditwire.store import Store
from auditwire.store.attempts import insert_attempts
from auditwire.store.migrate import migrate
from auditwire.store.schema import streaming_destinations
from auditwire.streaming.prune import AttemptPruner

POSTGRES_ADMIN_URL = os.environ.get(
    "AUDITWIRE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
BATCH = 500  # attempt records per settle
ROUNDS = 20  # batches timed; the best is printed
OLD = 20_000  # records past the kept days
RECENT = 5_000  # records within them
KEEP_DAYS = 14


def _records(destination_id: int, count: int, at: datetime) -> list[AttemptRecord]:
    return [
        AttemptRecord(destination_id, i, "group_updated", at, 3, AttemptOutcome.DELIVERED, 200)
        for i in range(count)
    ]


async def measure(store: Store) -> None:
    await migrate(store)
    now = datetime.now(UTC)
    async with store.write() as conn:
        result = await conn.execute(
            streaming_destinations.insert()
            .values(
                name="bench",
                destination_url="http://127.0.0.1:9/",
                verification_token=b"x",
                signing_secret=b"x",
                active=True,
                created_at=now,
                updated_at=now,
            )
            .returning(streaming_destinations.c.id)
        )
        destination_id = int(result.scalar_one())
    batch = _records(destination_id, BATCH, now)
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.perf_counter()
        async with store.write() as conn:
            await insert_attempts(conn, batch)
        best = min(best, time.perf_counter() - started)
    print(
        f"{store.dialect}: writing attempt records, {BATCH} per batch: "
        f"{best / BATCH * 1e6:.1f} us per record (best of {ROUNDS} batches)"
    )
    old = now - timedelta(days=KEEP_DAYS + 1)
    async with store.write() as conn:
        for start in range(0, OLD, BATCH):
            await insert_attempts(conn, _records(destination_id, min(BATCH, OLD - start), old))
        await insert_attempts(conn, _records(destination_id, RECENT, now))
    started = time.perf_counter()
    removed = await AttemptPruner(store, KEEP_DAYS).prune(now)
    elapsed = time.perf_counter() - started
    print(
        f"{store.dialect}: pruning {removed:,} of {OLD + RECENT + BATCH * ROUNDS:,} records: "
        f"{removed / elapsed:,.0f} records/s"
    )


async def main() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        store = Store(f"sqlite+aiosqlite:///{workdir}/bench.db")
        try:
            await measure(store)
        finally:
            await store.close()
    name = f"bench_log_{uuid.uuid4().hex[:8]}"
    try:
        admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    except (OSError, asyncpg.PostgresError) as error:
        print(f"postgresql: skipped ({error})")
        return
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace(
            "postgresql://", "postgresql+asyncpg://"
        )
        store = Store(f"{base}/{name}")
        try:
            await measure(store)
        finally:
            await store.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
