"""SQLite's cross-process writer lock (`store/writer_lock.py`) against another process that
holds it: a wait that outlives its caller's timeout never leaves the lock unheld under a
later caller, nor held by nobody."""

from __future__ import annotations

import asyncio
import fcntl
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from auditwire.errors import StorageError
from auditwire.store.writer_lock import SUFFIX, WriterLock
from tests.integration.streaming.factories import eventually

BOUND = 10.0  # seconds a test may take at most
HOLD = 0.8  # seconds the other process holds the lock


def held_elsewhere(lock_file: Path) -> bool:
    """Whether some open file holds the lock (probed from a file description of our own)."""
    fd = os.open(lock_file, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


@contextmanager
def other_process_holding(lock_file: Path) -> Iterator[subprocess.Popen[bytes]]:
    code = (
        "import fcntl, os, sys, time\n"
        f"fd = os.open({str(lock_file)!r}, os.O_CREAT | os.O_RDWR)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "print('held', flush=True)\n"
        f"time.sleep({HOLD})\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == b"held\n"
        yield holder
    finally:
        holder.kill()
        holder.wait(BOUND)


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "auditwire.db"


async def test_a_caller_after_a_timed_out_wait_holds_the_lock(database: Path) -> None:
    lock_file = database.with_name(database.name + SUFFIX)
    lock = WriterLock(database, timeout=0.2)
    try:
        with other_process_holding(lock_file):
            with pytest.raises(StorageError, match="database is locked"):
                await lock.acquire()
            lock._timeout = BOUND
            await lock.acquire()  # once the other process lets go
        await asyncio.sleep(0.05)  # any late callback of the first wait has run
        assert held_elsewhere(lock_file)  # by us: the first wait did not unlock under us
        lock.release()
        assert not held_elsewhere(lock_file)
    finally:
        lock.close()


async def test_a_wait_nobody_awaits_any_more_lets_the_lock_go(database: Path) -> None:
    lock_file = database.with_name(database.name + SUFFIX)
    lock = WriterLock(database, timeout=0.2)
    try:
        with other_process_holding(lock_file) as holder:
            with pytest.raises(StorageError):
                await lock.acquire()
            await asyncio.get_running_loop().run_in_executor(None, holder.wait, BOUND)

        async def let_go() -> bool:  # the wait in its thread ends, and lets the lock go
            return not held_elsewhere(lock_file)

        await eventually(let_go, within=BOUND)
        await lock.acquire()  # and the next caller takes it at once
        lock.release()
    finally:
        lock.close()
