"""Delivery in a process of its own, supervised by the process that serves the API.

`WorkerProcess` (the parent's side) runs `python -m auditwire worker --parent-channel FD`:
the same code as `auditwire worker`, in a fresh interpreter (nothing inherited from the
server: no loop, threads, pools or sockets), with the parent's settings in its environment.
It stops the child with SIGTERM (the worker's shutdown grace, then SIGKILL), starts it again
with backoff when it dies, and talks to it over a socket pair, the child's `FD`:

- parent to child, one byte per command: `w` look for due deliveries now (sent when events
  commit; never blocks, and a full buffer means wakes are already pending), `r` are you
  running, `m` your delivery metrics;
- child to parent, one frame per answer, in the order asked: the command byte, a 4-byte
  big-endian length, the payload; and `s` (started) once, unasked;
- end of file: the parent is gone (even by SIGKILL), and the child stops gracefully.

`serve_parent` is the child's side, run by `auditwire worker` beside its worker.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import struct
import sys
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import orjson
from prometheus_client import REGISTRY
from prometheus_client.metrics_core import Metric
from prometheus_client.samples import Sample

from auditwire.config import ENV_PREFIX, Settings

WAKE, RUNNING, METRICS, STARTED = b"w", b"r", b"m", b"s"
HEADER = struct.Struct(">cI")
ASK_TIMEOUT = 2.0  # seconds a question to the child may take
RESTART_FIRST = 0.5  # seconds before the first restart of a child that died
RESTART_MAX = 30.0  # seconds between restarts at most (doubling from RESTART_FIRST)
STABLE = 60.0  # seconds a child must have run for its next death to restart it at once
STOP_MARGIN = 10.0  # seconds past the shutdown grace to write outcomes before SIGKILL
READ_SIZE = 65536
# Families counted where deliveries are made: the child's figures, shown by the parent's
# /-/metrics added to its own. Gauges of stored state are read from the database there.
CHILD_FAMILIES = frozenset(
    {
        "auditwire_delivery_attempts",
        "auditwire_delivery_requests",
        "auditwire_delivery_latency_seconds",
        "auditwire_audit_events_recorded",
    }
)

log = logging.getLogger(__name__)


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that gives a child process these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    for name, value in settings.model_dump(mode="json").items():
        text = value if isinstance(value, str) else orjson.dumps(value).decode()
        env[ENV_PREFIX + name.upper()] = text
    return env


class WorkerProcess:
    """One supervised `auditwire worker` child. `start()` then `stop()`; both idempotent."""

    def __init__(self, settings: Settings) -> None:
        self._env = settings_env(settings)
        self._grace = settings.delivery_shutdown_grace
        self._process: asyncio.subprocess.Process | None = None
        self._channel: socket.socket | None = None
        self._answers: deque[asyncio.Future[bytes]] = deque()
        self._started = False
        self._stopping = False
        self._supervisor: asyncio.Task[None] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._spawned = asyncio.Event()
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        """The child is alive and said its worker started; not stopping."""
        process = self._process
        return (
            not self._stopping
            and self._started
            and process is not None
            and process.returncode is None
        )

    async def start(self) -> None:
        """Start the child and its supervision; returns once the child is spawned."""
        if self._supervisor is not None:
            return
        self._supervisor = asyncio.create_task(self._supervise(), name="delivery-process")
        await self._spawned.wait()

    def wake(self) -> None:
        """Ask the child to look for due deliveries now. From any thread; never blocks."""
        channel = self._channel
        if channel is not None:
            with suppress(OSError):  # full (wakes pending), or the child is gone
                channel.send(WAKE)

    async def is_running(self) -> bool:
        """The child answers that its worker's loops are alive."""
        answer = await self._ask(RUNNING)
        return answer == b"1"

    async def metrics(self) -> list[Metric]:
        """The child's delivery metrics; none when it does not answer."""
        answer = await self._ask(METRICS)
        return [] if answer is None else decode_families(answer)

    async def stop(self) -> None:
        """SIGTERM; the worker's shutdown grace and a margin to write outcomes; then SIGKILL."""
        if self._supervisor is None or self._stopping:
            return
        self._stopping = True
        process = self._process
        if process is not None and process.returncode is None:
            with suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(self._grace + STOP_MARGIN):
                    await process.wait()
            except TimeoutError:
                log.warning("delivery worker process %s did not stop: killed", process.pid)
                with suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        self._supervisor.cancel()
        with suppress(asyncio.CancelledError):
            await self._supervisor
        self._close_channel()

    # Supervision ------------------------------------------------------------------------------

    async def _supervise(self) -> None:
        loop = asyncio.get_running_loop()
        delay = RESTART_FIRST
        while not self._stopping:
            began = loop.time()
            try:
                process = await self._spawn()
            except Exception:  # the next try may work: never give up delivering
                log.exception("cannot start the delivery worker process")
                self._spawned.set()
                code: int | None = None
            else:
                self._spawned.set()
                code = await process.wait()
            self._close_channel()
            if self._stopping:
                return
            if loop.time() - began >= STABLE:
                delay = RESTART_FIRST
            log.warning(
                "delivery worker process exited; starting another",
                extra={"exit_code": code, "restart_in_seconds": delay},
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, RESTART_MAX)
            self.restarts += 1

    async def _spawn(self) -> asyncio.subprocess.Process:
        ours, theirs = socket.socketpair()
        try:
            ours.setblocking(False)
            fd = theirs.fileno()
            # Its own session: a terminal's Ctrl-C reaches the server only, which then stops
            # the child in order. Its output goes where the server's goes.
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "auditwire",
                "worker",
                "--parent-channel",
                str(fd),
                env=self._env,
                pass_fds=(fd,),
                stdin=asyncio.subprocess.DEVNULL,
                start_new_session=True,
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self._process, self._channel, self._started = process, ours, False
        self._reader = asyncio.create_task(self._read(ours), name="delivery-process-channel")
        log.info("delivery worker process started", extra={"pid": process.pid})
        return process

    def _close_channel(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
        channel, self._channel = self._channel, None
        if channel is not None:
            channel.close()
        self._started = False
        while self._answers:
            future = self._answers.popleft()
            if not future.done():
                future.set_result(b"")

    async def _read(self, channel: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        buffer = b""
        while data := await receive(loop, channel):
            found, buffer = frames(buffer + data)
            for kind, payload in found:
                if kind == STARTED:
                    self._started = True
                elif self._answers:
                    future = self._answers.popleft()
                    if not future.done():  # asked, then timed out: dropped
                        future.set_result(payload)

    async def _ask(self, command: bytes) -> bytes | None:
        channel = self._channel
        if channel is None:
            return None
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        try:
            channel.send(command)
        except OSError:
            return None
        self._answers.append(future)
        try:
            async with asyncio.timeout(ASK_TIMEOUT):
                return await asyncio.shield(future)
        except TimeoutError:
            return None


async def receive(loop: asyncio.AbstractEventLoop, channel: socket.socket) -> bytes:
    """What arrived on the socket pair; empty once the other side is gone."""
    try:
        return await loop.sock_recv(channel, READ_SIZE)
    except OSError:
        return b""


def frames(buffer: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """The whole frames at the start of `buffer`, and what is left of it after them."""
    found: list[tuple[bytes, bytes]] = []
    at = 0
    while len(buffer) - at >= HEADER.size:
        kind, length = HEADER.unpack_from(buffer, at)
        end = at + HEADER.size + length
        if len(buffer) < end:
            break
        found.append((kind, buffer[at + HEADER.size : end]))
        at = end
    return found, buffer[at:]


def frame(kind: bytes, payload: bytes) -> bytes:
    return HEADER.pack(kind, len(payload)) + payload


# Metrics across the two processes ------------------------------------------------------------


def encode_families(registry: Any = REGISTRY) -> bytes:
    """This process's CHILD_FAMILIES, as JSON."""
    families = [
        [m.name, m.type, m.documentation, [[s.name, s.labels, s.value] for s in m.samples]]
        for m in registry.collect()
        if m.name in CHILD_FAMILIES
    ]
    return orjson.dumps(families)


def decode_families(raw: bytes) -> list[Metric]:
    families: list[Metric] = []
    try:
        decoded = orjson.loads(raw)
        for name, kind, documentation, samples in decoded:
            if name not in CHILD_FAMILIES:
                continue
            family = Metric(name, documentation, kind)
            family.samples = [Sample(s, dict(labels), float(v)) for s, labels, v in samples]
            families.append(family)
    except (orjson.JSONDecodeError, TypeError, ValueError) as error:
        log.warning("unreadable metrics from the delivery worker process: %s", error)
        return []
    return families


# The child's side ------------------------------------------------------------------------------


async def serve_parent(
    fd: int, wake: Callable[[], None], running: Callable[[], bool], stop: asyncio.Event
) -> None:
    """Answer the parent on the socket `fd` until it goes (then set `stop`) or this task is
    cancelled."""
    loop = asyncio.get_running_loop()
    channel = socket.socket(fileno=fd)
    channel.setblocking(False)
    try:
        await loop.sock_sendall(channel, frame(STARTED, b""))
        while True:
            data = await receive(loop, channel)
            if not data:
                log.warning("the serving process is gone: stopping")
                stop.set()
                return
            if WAKE in data:
                wake()
            for command in data.replace(WAKE, b""):
                if command == RUNNING[0]:
                    await loop.sock_sendall(channel, frame(RUNNING, b"1" if running() else b"0"))
                elif command == METRICS[0]:
                    await loop.sock_sendall(channel, frame(METRICS, encode_families()))
    except OSError:  # the parent went while we answered
        stop.set()
    finally:
        channel.close()
