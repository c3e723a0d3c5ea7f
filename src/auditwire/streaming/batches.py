"""The batch path of the worker: one lane per batched destination claims up to its batch
size of due deliveries in one statement, holds a partial batch until its oldest event has
waited `maxWaitMs`, sends it with one `send_batch`, and settles every delivery of it in one
transaction (one statement per outcome group). Lanes run beside each other and beside the
per-event path, so a slow batch destination delays no other destination."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

from auditwire.domain.delivery import BatchResult, Leased, Settle, Settled, SettleGroup
from auditwire.domain.events import utcnow
from auditwire.domain.retry import CircuitPolicy, Gate, RetryPolicy
from auditwire.errors import StorageError
from auditwire.streaming import observe
from auditwire.streaming.destinations import DestinationCache, DestinationConfig
from auditwire.streaming.manager import DeliveryManager
from auditwire.streaming.settle import judge_batch
from auditwire.streaming.sinks.base import Answer, BatchAnswer, Verdict

BATCHES_IN_FLIGHT = 4  # batches of one destination sent at once: claims overlap sends
STORAGE_RETRY = 1.0  # seconds before retrying after a database error

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LaneSettings:
    """What every lane is run with (from the worker's settings and policies)."""

    manager: DeliveryManager
    cache: DestinationCache
    retry: RetryPolicy
    circuit: CircuitPolicy
    lease: float  # seconds a claim is leased for
    poll: float  # seconds between looks for due deliveries when nothing woke the lane
    # Loads the destinations again unless the cache is of this revision (the worker's).
    catch_up: Callable[[object], Awaitable[None]]
    in_flight: int = BATCHES_IN_FLIGHT
    # Whole batches claimed side by side while a backlog lasts (`manager.claims_at_once`).
    claims_at_once: int = 1


class BatchLane:
    """Delivers one batched destination's deliveries until stopped."""

    def __init__(
        self, destination_id: int, settings: LaneSettings, settled: Callable[[Settled], None]
    ) -> None:
        self.destination_id = destination_id
        self._s = settings
        self._on_settled = settled
        self._wake = asyncio.Event()
        self._stopping = False
        # Claimed and not yet sent: the deliveries with their events' bodies, whether they
        # are a circuit's probe, and the oldest delivery's creation (when the batch must go).
        self._gathered: list[Leased] = []
        self._probe = False
        self._gathered_bytes = 0
        self._oldest: datetime | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self._sent = asyncio.Event()
        self._stopped = asyncio.Event()
        self._backlog = False  # the last claim found as many as it asked for
        self.task: asyncio.Task[None] | None = None
        self.batches = 0

    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name=f"delivery-batch-{self.destination_id}")

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._stopped.set()
        self._wake.set()
        self._sent.set()

    @property
    def sending(self) -> set[asyncio.Task[None]]:
        return self._sending

    async def _run(self) -> None:
        try:
            while not self._stopping:
                try:
                    await self._step()
                except StorageError as error:
                    log.warning("claiming a batch failed: %s", error)
                    await self._pause(STORAGE_RETRY)
                except Exception:  # a bug must not stop this destination for good
                    log.exception("claiming a batch failed")
                    await self._pause(STORAGE_RETRY)
        finally:
            await asyncio.shield(self._release())

    async def _step(self) -> None:
        config = self._s.cache.by_id.get(self.destination_id)
        if config is None or config.limits is None:  # deactivated, destroyed, or not batched
            self._stopping = True
            return
        limits = config.limits
        now = utcnow()
        gate = config.circuit.gate(now)
        if gate is not Gate.SEND:
            await self._release()  # the circuit is open: hold nothing back from the probe
            if gate is Gate.PROBE and not self._sending:
                claimed = await self._claim(1, probe=True)
                if claimed:
                    self._launch(config)
                    return
            await self._pause(self._probe_wait(config))
            return
        if len(self._sending) >= self._s.in_flight:
            self._sent.clear()
            await self._wait_for(self._sent, self._s.poll)
            return
        room = limits.max_events - len(self._gathered)
        side_by_side = min(self._s.claims_at_once, self._s.in_flight - len(self._sending))
        if side_by_side > 1 and self._backlog and not self._gathered:
            await self._claim_whole(config, side_by_side)
            return
        if room > 0 and self._gathered_bytes < limits.max_bytes:
            self._wake.clear()
            got = await self._claim(room, probe=False)
            if not got and not self._gathered:
                await self._wait_for(self._wake, self._s.poll)
                return
        full = len(self._gathered) >= limits.max_events or self._gathered_bytes >= limits.max_bytes
        due = self._due_in(limits.max_wait_ms)
        if full or due <= 0:
            self._launch(config)
            return
        await self._pause(due)  # a partial batch waits for more events, then is topped up

    def _due_in(self, max_wait_ms: int) -> float:
        """Seconds until the gathered batch must go: its oldest delivery's wait is over (a
        retried one at once), bounded by half the lease so that it goes while leased."""
        assert self._oldest is not None  # something is gathered
        wait = min(max_wait_ms / 1000, self._s.lease / 2)
        return (self._oldest - utcnow()).total_seconds() + wait

    def _probe_wait(self, config: DestinationConfig) -> float:
        until = config.circuit.open_until
        if until is None:
            return self._s.poll
        return max(0.01, min(self._s.poll, (until - utcnow()).total_seconds()))

    async def _claim_whole(self, config: DestinationConfig, count: int) -> None:
        """While a backlog lasts, keep `count` claims of a whole batch running side by side
        (each its own statement and transaction, kept apart by SKIP LOCKED) and send each
        batch as its claim returns: the database works on the next batches while this one
        is built and sent, instead of the lane waiting on one claim at a time. Ends when a
        claim comes back short (that remainder is gathered as usual), when the send slots
        are full, or when the circuit or the destination changes."""
        assert config.limits is not None
        size, max_bytes = config.limits.max_events, config.limits.max_bytes
        claims: set[asyncio.Task[list[Leased]]] = set()
        failed: BaseException | None = None
        self._wake.clear()
        try:
            while True:
                while (
                    self._backlog
                    and failed is None
                    and not self._stopping
                    and len(claims) < count
                    and len(claims) + len(self._sending) < self._s.in_flight
                    and self._s.cache.by_id.get(self.destination_id) is config
                    and config.circuit.gate(utcnow()) is Gate.SEND
                ):
                    claims.add(asyncio.create_task(self._fetch(size, probe=False)))
                if not claims:
                    break
                done, claims = await asyncio.wait(claims, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    if (error := task.exception()) is not None:
                        failed = failed or error
                        continue
                    self._add(task.result(), probe=False)
                    full = len(self._gathered) >= size or self._gathered_bytes >= max_bytes
                    if full and not self._stopping:
                        self._launch(config)
        finally:
            if claims:  # interrupted: what is claimed is gathered, so sent or released
                for outcome in await asyncio.shield(
                    asyncio.gather(*claims, return_exceptions=True)
                ):
                    if isinstance(outcome, list):
                        self._add(outcome, probe=False)
        if failed is not None:
            raise failed

    async def _fetch(self, n: int, *, probe: bool) -> list[Leased]:
        now = utcnow()
        claimed, revision = await self._s.manager.claim_batch(
            self.destination_id, n, now, now + timedelta(seconds=self._s.lease), probe=probe
        )
        self._backlog = len(claimed) >= n
        if claimed:  # sent with the destination as it was when they were recorded, or later
            await self._s.catch_up(revision)
        return claimed

    async def _claim(self, n: int, *, probe: bool) -> list[Leased]:
        claimed = await self._fetch(n, probe=probe)
        self._add(claimed, probe=probe)
        return claimed

    def _add(self, claimed: list[Leased], *, probe: bool) -> None:
        if not claimed:
            return
        self._gathered.extend(claimed)
        self._probe = self._probe or probe
        self._gathered_bytes += sum(len(item.body) for item in claimed)
        oldest = min(item.created_at for item in claimed)
        self._oldest = oldest if self._oldest is None else min(self._oldest, oldest)

    def _take(self) -> tuple[list[Leased], bool]:
        taken = self._gathered, self._probe
        self._gathered, self._probe, self._gathered_bytes, self._oldest = [], False, 0, None
        return taken

    def _launch(self, config: DestinationConfig) -> None:
        current = self._s.cache.by_id.get(self.destination_id)
        if current is not None and current.batch is not None:  # loaded since `config` was
            config = current
        items, probe = self._take()
        limit = config.limits.max_events if config.limits is not None else len(items)
        if len(items) > limit:  # claims side by side came back short and whole, in that order
            items, rest = items[:limit], items[limit:]
            self._add(rest, probe=False)  # the next batch: sent when full or due
        task = asyncio.create_task(self._send(config, items, probe), name=f"batch-{config.id}")
        self._sending.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        self._sent.set()
        self._wake.set()

    async def _send(self, config: DestinationConfig, items: list[Leased], probe: bool) -> None:
        assert config.batch is not None
        loop = asyncio.get_running_loop()
        started_at, started = utcnow(), loop.time()
        try:
            answer = await config.batch.send_batch(config.target, items)
        except Exception as error:  # a bug must not lose the batch: retry it later
            log.exception("sending a batch to %s failed unexpectedly", config.id)
            answer = BatchAnswer(Answer(Verdict.RETRY, detail=type(error).__name__))
        result = judge_batch(config.id, items, answer, utcnow(), self._s.retry, probe=probe)
        result = observe.batch_attempted(
            items, config, answer, result, started_at, loop.time() - started
        )
        self.batches += 1
        await asyncio.shield(self._settle(result))

    async def _settle(self, result: BatchResult) -> None:
        while True:
            try:
                settled = await self._s.manager.settle_batch(result, utcnow(), self._s.circuit)
                break
            except Exception as error:  # StorageError, or a bug: the outcome is kept
                if self._stopping:  # the leases expire and the batch is sent again
                    log.warning("could not record a batch outcome at shutdown: %s", error)
                    return
                log.warning("recording a batch outcome failed, retrying: %s", error)
                await asyncio.sleep(STORAGE_RETRY)
        self._on_settled(settled)

    async def _release(self) -> None:
        """Give back what was claimed and not sent: due again at once, attempt not counted."""
        if not self._gathered:
            return
        items, _probe = self._take()
        ids = tuple(item.delivery_id for item in items)
        result = BatchResult(
            self.destination_id, Settle.RELEASE, [SettleGroup(Settle.RELEASE, ids)]
        )
        try:
            await self._s.manager.settle_batch(result, utcnow(), self._s.circuit)
        except Exception as error:  # the leases expire and they are claimed again
            log.warning("could not release %d claimed deliveries: %s", len(ids), error)

    async def _pause(self, seconds: float) -> None:
        """Wait `seconds` or until stopped: new events do not hurry a partial batch."""
        await self._wait_for(self._stopped, seconds)

    @staticmethod
    async def _wait_for(event: asyncio.Event, seconds: float) -> None:
        with suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, seconds)):
                await event.wait()
