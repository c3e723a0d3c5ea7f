"""Connections and transactions on SQLite or PostgreSQL through one interface."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager, suppress
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

import orjson
from sqlalchemy import event, exc
from sqlalchemy.engine import URL, Connection, Engine, create_engine, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from auditwire.errors import Conflict, InvalidInput, StorageError
from auditwire.store.writer_lock import WriterLock

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT = 30_000  # milliseconds
POOL_SIZE = 10  # connections per process
_WRITE = "auditwire_write"
UNAVAILABLE = "database unavailable"
NUL_REFUSED = "text must not contain NUL characters"
# PostgreSQL's SQLSTATEs for a NUL in text (22021) and in JSONB (22P05).
_NUL_STATES = frozenset({"22021", "22P05"})

# Read slots of the request being served, when it bounds them (see `bounded_reads`), and
# whether this task already holds one: a read nested in a read takes no second slot.
_READ_SLOTS: ContextVar[asyncio.Semaphore | None] = ContextVar("read_slots", default=None)
_HOLDS_SLOT: ContextVar[bool] = ContextVar("holds_read_slot", default=False)


@contextmanager
def bounded_reads(limit: int) -> Iterator[None]:
    """Within this block (and the tasks it starts), at most `limit` reads run at once."""
    token = _READ_SLOTS.set(asyncio.Semaphore(limit))
    try:
        yield
    finally:
        _READ_SLOTS.reset(token)


async def _until_done(running: asyncio.Future[Any]) -> None:
    """Wait for `running` to end, through any further cancellation (the caller re-raises)."""
    while not running.done():
        with suppress(asyncio.CancelledError):
            await asyncio.wait([running])


def _translated(error: exc.DBAPIError) -> Exception:
    """The caller's error for a driver's: NUL in text is bad input, anything else storage."""
    state = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    if state in _NUL_STATES:
        return InvalidInput(NUL_REFUSED)
    return StorageError(f"database error: {type(error.orig).__name__}")


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def in_write(conn: AsyncConnection) -> bool:
    """Whether this connection holds a write transaction from `Store.write`."""
    return bool(conn.sync_connection and conn.sync_connection.get_execution_options().get(_WRITE))


async def driver_connection(conn: AsyncConnection) -> Any:
    """The driver's own connection under this transaction (asyncpg's on PostgreSQL), for COPY
    and the delivery hot path's statements, which skip SQLAlchemy's per-call work."""
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    return driver


def _create_private(database: Path) -> None:
    """Create a new database file readable by its owner only, like the key file: it holds
    every audit event. An existing path is left as it is (a path that cannot be opened as a
    database then fails on connecting, where it is reported as the storage error it is)."""
    database.parent.mkdir(parents=True, exist_ok=True)
    with suppress(FileExistsError):
        os.close(os.open(database, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600))


def sqlite_file_of(url: str | URL) -> Path | None:
    """The file of a SQLite database URL; None for PostgreSQL or an in-memory database."""
    parsed = make_url(url)
    database = parsed.database if parsed.get_backend_name() == "sqlite" else None
    return Path(database) if database and database != ":memory:" else None


class Store:
    """Owns the engine; hands out read connections and write transactions."""

    def __init__(self, url: str, *, pool_size: int = POOL_SIZE) -> None:
        self.url = make_url(url)
        self.dialect = self.url.get_backend_name()
        self._whole_engine: Engine | None = None
        self._whole_thread: ThreadPoolExecutor | None = None
        self._whole_used = False
        self._writer: WriterLock | None = None
        if self.is_sqlite:
            database = self.url.database
            pooling: dict[str, Any] = {}
            if database and database != ":memory:":
                _create_private(Path(database))
                self._writer = WriterLock(Path(database), SQLITE_BUSY_TIMEOUT / 1000)
                # Enough pooled connections for concurrent requests: an overflow connection
                # is closed on return and reopened (a thread and PRAGMAs) on its next use.
                pooling = {"pool_size": pool_size, "max_overflow": pool_size}
            self.engine: AsyncEngine = create_async_engine(
                self.url, json_serializer=_json_dumps, json_deserializer=orjson.loads, **pooling
            )
            _configure_sqlite(self.engine.sync_engine)
            if database and database != ":memory:":
                # For `write_whole`: a plain sqlite3 connection on a thread of its own.
                self._whole_engine = create_engine(
                    self.url.set(drivername="sqlite"),
                    json_serializer=_json_dumps,
                    json_deserializer=orjson.loads,
                    pool_size=1,
                    max_overflow=0,
                    connect_args={"check_same_thread": False},
                )
                _configure_sqlite(self._whole_engine)
                self._whole_thread = ThreadPoolExecutor(1, thread_name_prefix="auditwire-sqlite")
        else:
            self.engine = create_async_engine(
                self.url,
                json_serializer=_json_dumps,
                json_deserializer=orjson.loads,
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_pre_ping=True,
            )
        # SQLite has one writer at a time; queueing writers here beats spinning on busy_timeout.
        self._write_lock = asyncio.Lock() if self.is_sqlite else None

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def sqlite_file(self) -> Path | None:
        """The SQLite database's file; None for PostgreSQL or an in-memory database."""
        return sqlite_file_of(self.url)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reading; its implicit transaction is rolled back at the end."""
        slots = None if _HOLDS_SLOT.get() else _READ_SLOTS.get()
        if slots is None:
            async with self._read() as conn:
                yield conn
            return
        async with slots:
            held = _HOLDS_SLOT.set(True)
            try:
                async with self._read() as conn:
                    yield conn
            finally:
                _HOLDS_SLOT.reset(held)

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        try:
            async with self._connect() as conn:
                yield conn
        except exc.DBAPIError as error:
            raise _translated(error) from error

    @asynccontextmanager
    async def _connect(self) -> AsyncIterator[AsyncConnection]:
        """A pooled connection; a database that cannot be reached is a StorageError, however
        the driver says so (asyncpg raises the socket's own OSError)."""
        conn = self.engine.connect()
        try:
            await conn.start()
        except (OSError, TimeoutError) as error:
            raise StorageError(UNAVAILABLE) from error
        try:
            yield conn
        finally:
            await asyncio.shield(conn.close())

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """One transaction: committed when the block ends, rolled back when it raises."""
        if self._write_lock is None:
            async with self._transaction() as conn:
                yield conn
            return
        async with self._write_lock:
            if self._writer is None:
                async with self._transaction() as conn:
                    yield conn
                return
            await self._writer.acquire()
            try:
                async with self._transaction() as conn:
                    yield conn
            finally:
                self._writer.release()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncConnection]:
        try:
            async with self._connect() as conn:
                await conn.execution_options(**{_WRITE: True})
                async with conn.begin():
                    yield conn
        except exc.IntegrityError as error:
            raise Conflict("has already been taken") from error
        except exc.DBAPIError as error:
            raise _translated(error) from error

    @property
    def sync_engines(self) -> list[Engine]:
        """Every engine that commits for this store (for commit hooks)."""
        engines = [self.engine.sync_engine]
        if self._whole_engine is not None:
            engines.append(self._whole_engine)
        return engines

    async def write_whole(self, work: Callable[[AsyncConnection], Coroutine[Any, Any, T]]) -> T:
        """`work(conn)` in one write transaction, as `write()` would run it; on a SQLite file,
        the whole transaction in one hop to a thread of its own instead of one hop per
        statement. `work` may await only the connection's `execute` and `exec_driver_sql`.

        The hot path of a delivery worker: aiosqlite hops to its thread and back for every
        statement, and each hop waits for the GIL while this loop is busy sending, so that a
        claim of a few statements held SQLite's one write lock for tens of milliseconds."""
        if self._whole_engine is None or self._whole_thread is None:
            async with self.write() as conn:
                return await work(conn)
        assert self._write_lock is not None
        self._whole_used = True
        loop = asyncio.get_running_loop()
        async with self._write_lock:
            writer = self._writer
            if writer is not None:
                await writer.acquire()
            try:
                running = loop.run_in_executor(self._whole_thread, self._whole, work)
            except BaseException:
                if writer is not None:
                    writer.release()
                raise
            if writer is not None:  # released when the transaction ended, not the caller
                running.add_done_callback(lambda _done: writer.release())
            # Shielded: once started, the transaction ends (committed or rolled back) in its
            # thread whatever happens to the caller, and the write lock is held until then,
            # so that no other writer of this store begins beside it.
            try:
                return await asyncio.shield(running)
            except asyncio.CancelledError:
                await _until_done(running)
                raise

    def _whole(self, work: Callable[[AsyncConnection], Coroutine[Any, Any, T]]) -> T:
        assert self._whole_engine is not None
        try:
            with self._whole_engine.connect() as conn:
                conn.execution_options(**{_WRITE: True})
                with conn.begin():
                    return _run_at_once(work(_AtOnce(conn)))  # type: ignore[arg-type]
        except exc.IntegrityError as error:
            raise Conflict("has already been taken") from error
        except exc.DBAPIError as error:
            raise _translated(error) from error

    async def close(self) -> None:
        await self.engine.dispose()
        if self._writer is not None:
            self._writer.close()
        if self._whole_engine is not None and self._whole_thread is not None:
            if self._whole_used:  # its connection belongs to its thread: closed there
                await asyncio.get_running_loop().run_in_executor(
                    self._whole_thread, self._whole_engine.dispose
                )
            self._whole_thread.shutdown(wait=False)


class _AtOnce:
    """The part of an AsyncConnection the store's statements use, over a sync Connection:
    every await on it completes at once, so a store coroutine runs to its end in one call."""

    def __init__(self, conn: Connection) -> None:
        self.sync_connection = conn
        self.dialect = conn.dialect

    @property
    def info(self) -> dict[Any, Any]:
        return self.sync_connection.info

    async def execute(self, statement: Any, parameters: Any = None, **options: Any) -> Any:
        return self.sync_connection.execute(statement, parameters, **options)

    async def exec_driver_sql(self, statement: str, parameters: Any = None, **options: Any) -> Any:
        return self.sync_connection.exec_driver_sql(statement, parameters, **options)


def _run_at_once(coroutine: Coroutine[Any, Any, T]) -> T:
    """The result of a coroutine that never suspends."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coroutine.close()
    raise RuntimeError("a store function awaited something other than its connection")


def _configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, and BEGIN IMMEDIATE for writes so a writer never fails mid-way."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
