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
import threading
from contextlib import suppress
from pathlib import Path

from auditwire.errors import StorageError

SUFFIX = "-writer"  # beside SQLite's own `-wal` and `-shm` files


class WriterLock:
    """An exclusive lock shared by every process (and every store) writing one database.

    Its callers take it one at a time (the store's asyncio write lock is held around it). A
    wait that outlives its caller's timeout goes on in its thread: the next caller waits on
    that same wait and holds the lock when it ends, and when no caller is waiting then, it
    is let go at once. (Two waits on one file descriptor would both succeed, flock being the
    open file's, and the first to end would unlock under the second.)"""

    def __init__(self, database: Path, timeout: float) -> None:
        self._path = database.with_name(database.name + SUFFIX)
        self._timeout = timeout
        self._fd: int | None = None
        self._pending: asyncio.Future[None] | None = None  # a wait in its thread
        self._awaited = False  # a caller is waiting on `_pending`

    def _fileno(self) -> int:
        if self._fd is None:
            self._fd = os.open(self._path, os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
        return self._fd

    async def acquire(self) -> None:
        """Hold the lock; a StorageError after `timeout` seconds of waiting."""
        fd = self._fileno()
        if self._pending is None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                pass
            self._pending = _wait_in_thread(fd)
            self._pending.add_done_callback(self._ended)
        waiting = self._pending
        self._awaited = True
        try:
            async with asyncio.timeout(self._timeout):
                await asyncio.shield(waiting)
        except BaseException as error:
            taken = waiting.done() and not waiting.cancelled() and waiting.exception() is None
            if taken and self._pending is not waiting:  # `_ended` ran, and left it to us
                self.release()  # taken in the same moment as we gave up: let go
            if isinstance(error, TimeoutError):
                raise StorageError("database is locked") from error
            raise
        finally:
            self._awaited = False

    def _ended(self, waiting: asyncio.Future[None]) -> None:
        """The wait in its thread ended (before its caller resumes): with nobody waiting on
        it any more, the lock it took is let go."""
        self._pending = None
        if not self._awaited and not waiting.cancelled() and waiting.exception() is None:
            self.release()

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with suppress(OSError):
                os.close(fd)


def _wait_in_thread(fd: int) -> asyncio.Future[None]:
    """`flock(fd, LOCK_EX)` in a daemon thread of its own: a wait that never ends (another
    process holding the lock for good) must not keep this process from exiting."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def settle(error: BaseException | None) -> None:
        if done.done():
            return
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)

    def wait() -> None:
        error: BaseException | None = None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as failed:
            error = failed
        with suppress(RuntimeError):  # the loop is closed: nobody is left to tell
            loop.call_soon_threadsafe(settle, error)

    threading.Thread(target=wait, name="auditwire-sqlite-lock", daemon=True).start()
    return done


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
