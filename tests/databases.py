"""Test databases: a migrated template per backend, cloned for each test."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

from auditwire.store import Store
from auditwire.store.migrate import migrate

POSTGRES_ADMIN_URL = os.environ.get(
    "AUDITWIRE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
CONNECT_TIMEOUT = 5.0  # seconds
T = TypeVar("T")


def run_blocking(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on a loop of its own, whether or not one is running here."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def postgres_required() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def _with_database(name: str) -> str:
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


async def postgres_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        conn = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=CONNECT_TIMEOUT)
    except (OSError, asyncpg.PostgresError) as error:
        return f"PostgreSQL at {POSTGRES_ADMIN_URL} is not reachable: {error}"
    await conn.close()
    return None


class PostgresTemplate:
    """A database migrated once per test session, then copied with CREATE DATABASE … TEMPLATE."""

    def __init__(self) -> None:
        self.name = f"auditwire_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.created: list[str] = []

    async def create(self) -> None:
        conn = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=CONNECT_TIMEOUT)
        try:
            await conn.execute(f'CREATE DATABASE "{self.name}"')
        finally:
            await conn.close()
        store = Store(_with_database(self.name).replace("postgresql://", "postgresql+asyncpg://"))
        try:
            await migrate(store)
        finally:
            await store.close()

    async def clone(self) -> str:
        name = f"auditwire_test_{uuid.uuid4().hex[:12]}"
        conn = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=CONNECT_TIMEOUT)
        try:
            await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"')
        finally:
            await conn.close()
        self.created.append(name)
        return _with_database(name)

    async def drop(self, name: str | None = None) -> None:
        names = [name] if name else [*self.created, self.name]
        conn = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=CONNECT_TIMEOUT)
        try:
            for each in names:
                await conn.execute(f'DROP DATABASE IF EXISTS "{each}" WITH (FORCE)')
                if each in self.created:
                    self.created.remove(each)
        finally:
            await conn.close()


class SqliteTemplate:
    """A migrated SQLite file copied for each test."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "template.db"

    def create(self) -> None:
        async def build() -> None:
            store = Store(f"sqlite+aiosqlite:///{self.path}")
            try:
                await migrate(store)
            finally:
                await store.close()

        run_blocking(build())

    def clone(self, directory: Path) -> str:
        target = directory / "auditwire.db"
        shutil.copyfile(self.path, target)
        return f"sqlite:///{target}"
