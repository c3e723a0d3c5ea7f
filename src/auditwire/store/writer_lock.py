"""SQLite's one writer across processes: an `flock` on a file beside the database.

SQLite lets one transaction write at a time; a writer that finds the database locked sleeps
in its busy handler (1, 2, 5, ... up to 100 ms) and tries again. Within a process the store
queues its writers on an asyncio lock instead; with two processes writing (the API recording
events, its worker process claiming and settling) the sleeps came back: p99 latency went past
a second. Taken before `BEGIN IMMEDIATE` in every process, this lock makes a waiting writer
start the moment the other commits (the kernel wakes it). SQLite's own locking still keeps
the database correct; this only orders the writers."""

from __future__ import annotations

import asyncio
import fcntl
import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path

from auditwire.errors import StorageError

SUFFIX = "-writer"  # beside SQLite's own `-wal` and `-shm` files


class WriterLock:
    """An exclusive lock shared by every process (and every store) writing one database."""

    def __init__(self, database: Path, timeout: float) -> None:
        self._path = database.with_name(database.name + SUFFIX)
        self._timeout = timeout
        self._fd: int | None = None
        self._waiter: ThreadPoolExecutor | None = None

    def _fileno(self) -> int:
        if self._fd is None:
            self._fd = os.open(self._path, os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
        return self._fd

    async def acquire(self) -> None:
        """Hold the lock; a StorageError after `timeout` seconds of waiting."""
        fd = self._fileno()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        if self._waiter is None:
            self._waiter = ThreadPoolExecutor(1, thread_name_prefix="auditwire-sqlite-lock")
        waiting = asyncio.get_running_loop().run_in_executor(
            self._waiter, fcntl.flock, fd, fcntl.LOCK_EX
        )
        try:
            async with asyncio.timeout(self._timeout):
                await asyncio.shield(waiting)
        except BaseException as error:
            waiting.add_done_callback(self._release_late)  # taken after we gave up: let go
            if isinstance(error, TimeoutError):
                raise StorageError("database is locked") from error
            raise

    def _release_late(self, waiting: asyncio.Future[None]) -> None:
        if not waiting.cancelled() and waiting.exception() is None:
            self.release()

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with suppress(OSError):
                os.close(fd)
        if self._waiter is not None:
            self._waiter.shutdown(wait=False)


WORKER_SUFFIX = "-worker"


def claim_worker_slot(database: Path) -> int | None:
    """Hold the one worker slot of a SQLite database for this process's lifetime (the kernel
    lets go when it exits, however it exits): the file descriptor that holds it, or None when
    another process holds it."""
    path = database.with_name(database.name + WORKER_SUFFIX)
    fd = os.open(path, os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd
