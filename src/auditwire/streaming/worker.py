"""The delivery worker: claim due deliveries in batches, POST them concurrently within each
destination's budget, settle the outcomes in batches; a batched destination runs in its own
lane (`streaming.batches`). The worker reaches storage only through its `DeliveryManager`.
Any number of workers may run against PostgreSQL; SQLite supports one worker process."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections import Counter, defaultdict, deque
from contextlib import suppress
from datetime import timedelta

from auditwire.config import Settings
from auditwire.crypto import SecretBox
from auditwire.domain.delivery import Claimed, Result, Settle, Settled
from auditwire.domain.events import utcnow
from auditwire.domain.retry import CircuitPolicy, Gate, RetryPolicy
from auditwire.errors import StorageError
from auditwire.store import Store
from auditwire.streaming import observe
from auditwire.streaming.batches import BatchLane, LaneSettings
from auditwire.streaming.destinations import DestinationCache, DestinationConfig
from auditwire.streaming.manager import DeliveryManager
from auditwire.streaming.prune import AttemptPruner
from auditwire.streaming.settle import judge, judge_now
from auditwire.streaming.sinks import SinkSet, SinkSettings
from auditwire.streaming.sinks.base import Answer, Verdict

REFRESH_INTERVAL = 0.5  # seconds between re-reads of the destinations' rows
STORAGE_RETRY = 1.0  # seconds before retrying after a database error
# Seconds outcomes may wait to be written together (the deliveries stay leased meanwhile):
# SQLite has one writer, and a drain was bound by how many transactions it took.
SETTLE_LINGER = 0.1
REFILL_FRACTION = 4  # claim again once a quarter of a destination's budget is free
# A healthy destination keeps this many budgets' worth of claimed deliveries at hand, so the
# next POST starts as soon as one finishes instead of after a round trip to the database.
# Claims of up to half of this, so fewer, larger transactions; one claim's time to come back
# (tens of ms under load) is covered by what is queued.
PREFETCH = 32
HELD_BUDGETS = 8  # deliveries held here at most, over all destinations: this many global caps
SWITCH_INTERVAL = 0.0005  # seconds a thread holds the GIL while another waits for it

log = logging.getLogger(__name__)


class DeliveryWorker:
    """Delivers pending deliveries until stopped. `start()` then `stop()`; both idempotent.

    `manager` is the worker's only way to storage; a `Store` is taken as its SQL manager."""

    def __init__(
        self,
        settings: Settings,
        manager: DeliveryManager | Store,
        box: SecretBox,
        *,
        sinks: SinkSet | None = None,
    ) -> None:
        if isinstance(manager, Store):
            from auditwire.store.delivery_manager import SqlDeliveryManager

            manager = SqlDeliveryManager(manager)
        self._settings = settings
        self._manager: DeliveryManager = manager
        self._sinks = sinks or SinkSet(sink_settings(settings))
        self._cache = DestinationCache(box, self._sinks)
        self._retry = RetryPolicy(
            settings.delivery_retry_base, settings.delivery_retry_max, settings.delivery_max_age
        )
        self._circuit = CircuitPolicy(
            settings.delivery_circuit_failures,
            settings.delivery_circuit_probe_base,
            settings.delivery_circuit_probe_max,
        )
        self._per_destination = settings.delivery_concurrency_per_destination
        self._refill = max(1, self._per_destination // REFILL_FRACTION)
        self._wake = asyncio.Event()
        self._results_ready = asyncio.Event()
        self._results: list[Result] = []
        # Attempts made since the last settle, their records and metrics made once per settle.
        self._attempts: list[observe.Attempt] = []
        self._in_flight: defaultdict[int, int] = defaultdict(int)
        self._queued: defaultdict[int, deque[tuple[Claimed, float]]] = defaultdict(deque)
        self._held = 0  # claimed deliveries in flight or queued here
        self._proven: set[int] = set()  # destinations that answered 2xx to this worker
        self._total_in_flight = 0
        self._sending: set[asyncio.Task[None]] = set()
        self._claimer: asyncio.Task[None] | None = None
        self._settler: asyncio.Task[None] | None = None
        self._lanes: dict[int, BatchLane] = {}
        self._lane_settings = LaneSettings(
            manager=manager,
            cache=self._cache,
            retry=self._retry,
            circuit=self._circuit,
            lease=settings.delivery_lease,
            poll=settings.delivery_poll_interval,
            claims_at_once=manager.claims_at_once,
            catch_up=self._catch_up,
        )
        self._pruner = AttemptPruner(manager, settings.delivery_log_days)
        self._stopping = False
        self._closing = False
        self._refresh_due = 0.0
        self._revision: object = None  # of the destinations in the cache
        self._refreshing = asyncio.Lock()
        self._rotation = 0
        self.stats: Counter[str] = Counter()

    # Life cycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._claimer is not None:
            return
        # The database driver's thread (aiosqlite) needs the GIL for every statement while
        # this loop keeps it busy sending: at the default 5 ms switch interval each hop waits
        # up to 5 ms, and claims and settles of a few statements took tens of ms.
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
        await self._sinks.start()
        await self._manager.start(self.wake)
        self._claimer = asyncio.create_task(self._claim_loop(), name="delivery-claim")
        self._settler = asyncio.create_task(self._settle_loop(), name="delivery-settle")
        self._pruner.start()

    def wake(self) -> None:
        """Look for due deliveries now rather than at the next poll."""
        self._wake.set()
        for lane in self._lanes.values():
            lane.wake()

    async def stop(self, grace: float | None = None) -> None:
        """Stop claiming, give requests in flight `grace` seconds (default from the settings)
        to finish, release the leases of the rest, and settle every outcome."""
        if self._claimer is None or self._stopping:
            return
        self._stopping = True
        self._wake.set()
        await self._claimer
        for destination_id in list(self._queued):  # claimed, not started: others may take them
            self._release_queued(destination_id)
        lanes = list(self._lanes.values())
        for lane in lanes:
            lane.stop()
        # A lane ends once it released what it gathered; its batches in flight get the grace.
        await asyncio.gather(*(lane.task for lane in lanes if lane.task), return_exceptions=True)
        in_flight = set(self._sending).union(*(lane.sending for lane in lanes))
        if in_flight:
            bound = self._settings.delivery_shutdown_grace if grace is None else grace
            _done, late = await asyncio.wait(in_flight, timeout=bound)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        self._closing = True
        self._results_ready.set()
        if self._settler is not None:
            await self._settler
        await self._manager.stop()
        await self._pruner.stop()
        await self._sinks.close()

    @property
    def in_flight(self) -> int:
        return self._total_in_flight

    @property
    def running(self) -> bool:
        """Started, not stopping, and its claim and settle loops alive."""
        loops = (self._claimer, self._settler)
        return not self._stopping and all(t is not None and not t.done() for t in loops)

    # Claiming ---------------------------------------------------------------------------------

    async def _claim_loop(self) -> None:
        poll = self._settings.delivery_poll_interval
        while not self._stopping:
            self._wake.clear()
            try:
                more = await self._claim_once()
            except StorageError as error:
                log.warning("claiming deliveries failed: %s", error)
                more = False
                await asyncio.sleep(STORAGE_RETRY)
            except Exception:  # a bug must not stop deliveries for good: log, then go on
                log.exception("claiming deliveries failed")
                more = False
                await asyncio.sleep(STORAGE_RETRY)
            if more and not self._stopping:
                await asyncio.sleep(0)
                continue
            with suppress(TimeoutError):
                async with asyncio.timeout(self._sleep_bound(poll)):
                    await self._wake.wait()

    def _sleep_bound(self, poll: float) -> float:
        """Seconds until the next poll or the next probe of an open circuit, if sooner."""
        now = utcnow()
        bound = poll
        for config in self._cache.by_id.values():
            until = config.circuit.open_until
            if until is not None and config.circuit.gate(now) is Gate.WAIT:
                bound = min(bound, max(0.0, (until - now).total_seconds()))
        return bound

    async def _catch_up(self, revision: object) -> None:
        """Claimed deliveries saw the destinations at `revision`: unless the cache is of it,
        a destination changed since it was loaded, perhaps before these events were recorded
        (a header added, then the event saying so), and it is loaded again so that they go
        with the change."""
        try:
            await self._refresh(unless_at=revision)
        except Exception as error:  # they are leased: sent with what the cache holds
            log.warning("loading changed destinations failed: %s", error)

    async def _refresh(self, *, unless_at: object = None) -> None:
        """Load the destinations when the periodic re-read is due, or, with `unless_at`, at
        once unless a load made meanwhile is of that revision."""
        async with self._refreshing:  # one load at a time, each newer than the last
            loop = asyncio.get_running_loop()
            if unless_at is None and loop.time() < self._refresh_due:
                return
            if unless_at is not None and unless_at == self._revision:
                return
            revision, rows = await self._manager.load_destinations()
            await self._cache.update(rows)
            self._revision = revision
            self._refresh_due = loop.time() + REFRESH_INTERVAL
        for destination_id, queue in self._queued.items():
            if queue and destination_id not in self._cache.by_id:  # deactivated or destroyed
                self._release_queued(destination_id)
        self._run_lanes()

    def _run_lanes(self) -> None:
        """One lane per batched destination, while it is active; ended lanes are dropped."""
        for destination_id, lane in list(self._lanes.items()):
            if lane.task is not None and lane.task.done():
                del self._lanes[destination_id]
        if self._stopping:
            return
        for config in self._cache.by_id.values():
            if config.batch is not None and config.id not in self._lanes:
                lane = self._lanes[config.id] = BatchLane(
                    config.id, self._lane_settings, self._apply
                )
                lane.start()

    async def _claim_once(self) -> bool:
        """Claim what the budgets allow; True when a destination may have more due at once."""
        await self._refresh()
        now = utcnow()
        free_total = HELD_BUDGETS * self._settings.delivery_concurrency - self._held
        wanted: dict[int, int] = {}
        probe_candidates: list[int] = []
        configs = list(self._cache.by_id.values())
        if configs:  # rotate so that under the global cap no destination always comes last
            self._rotation = (self._rotation + 1) % len(configs)
            configs = configs[self._rotation :] + configs[: self._rotation]
        for config in configs:
            if free_total <= 0:
                break
            if config.batch is not None:  # its lane claims for it
                continue
            held = self._in_flight[config.id] + len(self._queued[config.id])
            gate = config.circuit.gate(now)
            if gate is Gate.SEND:
                capacity, refill = self._capacity(config)
                n = min(capacity - held, self._settings.delivery_batch_size, free_total)
                if n >= refill or (n > 0 and held == 0):
                    wanted[config.id] = n
                    free_total -= n
            elif gate is Gate.PROBE and held == 0:
                probe_candidates.append(config.id)
                free_total -= 1
        if not wanted and not probe_candidates:
            return False
        # Outcomes waiting to be written ride along: one transaction instead of two.
        outcomes = self._take_results()
        lease_until = now + timedelta(seconds=self._settings.delivery_lease)
        try:
            exchanged = await self._manager.exchange(
                outcomes, wanted, probe_candidates, now, lease_until, self._circuit
            )
        except BaseException:
            self._results[:0] = outcomes  # not written: the settle loop tries again
            self._results_ready.set()
            raise
        settled, claimed, probes = exchanged.settled, exchanged.claimed, exchanged.probes
        if settled is not None:
            self._settled(outcomes, settled)
            skip = dict(wanted)  # what the manager skipped, to judge "more" below
            for destination_id, circuit in settled.circuits.items():
                if circuit.gate(now) is not Gate.SEND:
                    skip.pop(destination_id, None)
            wanted = skip
        if claimed:  # after the circuit changes settled above are applied (and logged)
            await self._catch_up(exchanged.revision)
        wanted.update(dict.fromkeys(probes, 1))
        got = Counter(c.destination_id for c in claimed)
        if probes:
            self._refresh_due = 0.0
        self.stats["claims"] += 1
        self.stats["claimed"] += len(claimed)
        # A queued delivery must start while its lease still covers a whole attempt.
        lease = self._settings.delivery_lease
        start_by = asyncio.get_running_loop().time() + max(
            lease - self._settings.delivery_timeout, lease / 2
        )
        for item in claimed:  # each with its stream body, rendered by the database
            self._queued[item.destination_id].append((item, start_by))
        self._held += len(claimed)
        for destination_id in got:
            self._pump(destination_id)
        return any(got[d] == n and d in self._cache.by_id for d, n in wanted.items()) and (
            self._held < HELD_BUDGETS * self._settings.delivery_concurrency
        )

    def _capacity(self, config: DestinationConfig) -> tuple[int, int]:
        """How many deliveries a destination may hold here, and the smallest claim worth a
        transaction: a destination that answers prefetches PREFETCH budgets and is refilled
        by half of that at a time (fewer, larger claims), any other holds one budget."""
        if config.circuit.consecutive_failures == 0 and config.id in self._proven:
            capacity = self._per_destination * PREFETCH
            return capacity, capacity // 2
        return self._per_destination, self._refill

    def _release_queued(self, destination_id: int) -> None:
        queue = self._queued.get(destination_id)
        while queue:
            item, _start_by = queue.popleft()
            self._held -= 1
            self._results.append(Result(item.delivery_id, item.destination_id, Settle.RELEASE))
        self._results_ready.set()

    def _pump(self, destination_id: int) -> None:
        """Start queued deliveries of a destination while its budget and the global cap allow."""
        while (taken := self._take(destination_id)) is not None:
            task = asyncio.create_task(self._run(*taken), name=f"delivery-{destination_id}")
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    def _take(self, destination_id: int) -> tuple[Claimed, DestinationConfig | None] | None:
        """The next queued delivery of a destination that may start now, counted in flight;
        None when its budget or the global cap is full or nothing is queued."""
        queue = self._queued[destination_id]
        cap = self._settings.delivery_concurrency
        while (
            queue
            and self._in_flight[destination_id] < self._per_destination
            and self._total_in_flight < cap
        ):
            item, start_by = queue.popleft()
            if asyncio.get_running_loop().time() > start_by:  # too late: let it be claimed anew
                self._held -= 1
                self._results.append(Result(item.delivery_id, destination_id, Settle.RELEASE))
                self._results_ready.set()
                continue
            self._in_flight[destination_id] += 1
            self._total_in_flight += 1
            return item, self._cache.by_id.get(destination_id)
        return None

    # Sending ----------------------------------------------------------------------------------

    async def _run(self, item: Claimed, config: DestinationConfig | None) -> None:
        """Deliver, then go on with the destination's next queued delivery while its budget
        allows: one task per run of deliveries rather than one per delivery (task creation
        and scheduling showed in profiles of a draining worker), and each delivery inline
        rather than a coroutine of its own (every resumption of the send passed through one
        more frame, which showed too)."""
        destination_id = item.destination_id
        cap = self._settings.delivery_concurrency
        loop = asyncio.get_running_loop()
        while True:
            result = Result(item.delivery_id, destination_id, Settle.RELEASE)
            try:
                if config is not None:  # None: created after our last refresh: next claim
                    started = loop.time()
                    answer = await config.sink.send(config.target, item.event, item.body)
                    ended = loop.time()
                    # The clock is read only for a failed attempt (to schedule its retry);
                    # the attempt's record and metrics are made with the others' when they
                    # are settled.
                    result = judge_now(item, answer, utcnow, self._retry)
                    self._attempts.append((item, config, answer, result, started, ended))
            except Exception as error:  # a bug must not lose the delivery: retry it later
                log.exception("delivering %s failed unexpectedly", item.delivery_id)
                failed = Answer(Verdict.RETRY, detail=type(error).__name__)
                result = judge(item, failed, utcnow(), self._retry)
            finally:
                self._in_flight[destination_id] -= 1
                self._total_in_flight -= 1
                self._held -= 1
                self._results.append(result)
                self._results_ready.set()
            if self._stopping:
                return
            taken = self._take(destination_id)
            if self._total_in_flight == cap - 1:
                for other in list(self._queued):  # the global cap was full: others wait
                    self._pump(other)
            # Claim as soon as a refill fits, while the queue still holds work for the
            # time the claim takes: the budget never waits on a round trip to the database.
            current = self._cache.by_id.get(destination_id)
            if current is not None:
                capacity, refill = self._capacity(current)
                held = self._in_flight[destination_id] + len(self._queued[destination_id])
                if held <= capacity - refill:
                    self._wake.set()
            elif len(self._queued[destination_id]) < self._per_destination:
                self._wake.set()
            if taken is None:
                return
            item, config = taken

    # Settling ---------------------------------------------------------------------------------

    async def _settle_loop(self) -> None:
        while True:
            await self._results_ready.wait()
            if not self._closing:
                # Let outcomes gather (and ride along with the next claim when one comes):
                # the deliveries stay leased meanwhile, so waiting loses nothing.
                await asyncio.sleep(SETTLE_LINGER)
            self._results_ready.clear()
            batch = self._take_results()
            if batch:
                # Shielded: a cancellation must not leave a written outcome half-recorded.
                await asyncio.shield(self._settle(batch))
            if self._closing and not self._results:
                return

    async def _settle(self, batch: list[Result]) -> None:
        while True:
            now = utcnow()
            try:
                settled = await self._manager.settle(batch, now, self._circuit)
                break
            except Exception as error:  # StorageError, or a bug: the outcomes are kept
                if self._closing:  # the leases expire and the deliveries are sent again
                    log.warning("could not record %d outcomes at shutdown: %s", len(batch), error)
                    return
                log.warning("recording outcomes failed, retrying: %s", error)
                await asyncio.sleep(STORAGE_RETRY)
        self._settled(batch, settled)

    def _take_results(self) -> list[Result]:
        """The outcomes to settle now, the attempts among them with their records attached
        and counted (once for all of them: made per delivery, this showed in profiles)."""
        if self._attempts:
            attempts, self._attempts = self._attempts, []
            try:
                observe.attempts_made(attempts, asyncio.get_running_loop().time(), utcnow())
            except Exception:  # a bug must not stop settling: outcomes go without records
                log.exception("making the records of %d attempts failed", len(attempts))
        taken, self._results = self._results, []
        return taken

    def _settled(self, batch: list[Result], settled: Settled) -> None:
        self.stats["settles"] += 1
        released = 0
        for result in batch:
            self.stats[result.settle.value] += 1
            if result.settle is Settle.DELIVERED:
                self._proven.add(result.destination_id)
            elif result.settle is not Settle.RELEASE:
                self._proven.discard(result.destination_id)
            else:
                released += 1
        observe.requests_made(len(batch) - released)
        self._apply(settled)

    def _apply(self, settled: Settled) -> None:
        """Circuits that changed and destinations that went, as a settle wrote them."""
        now = utcnow()
        for destination_id, circuit in settled.circuits.items():
            known = self._cache.by_id.get(destination_id)
            before = known.circuit if known else None
            observe.circuit_changed(destination_id, known.name if known else None, before, circuit)
            self._cache.set_circuit(destination_id, circuit)
            if circuit.gate(now) is not Gate.SEND:
                self._release_queued(destination_id)  # the circuit opened: hold them back
        for gone in settled.deactivated:
            self._cache.drop(gone.id)
            self._release_queued(gone.id)
            log.warning("destination %s answered 410 Gone and was deactivated", gone.id)
        self._wake.set()


def sink_settings(settings: Settings) -> SinkSettings:
    """What every sink is built with, from the settings (read here, in one place)."""
    return SinkSettings(
        timeout=settings.delivery_timeout,
        connections=settings.delivery_concurrency,
        allow_local_requests=settings.allow_local_requests,
        gcp_token_url=settings.gcp_token_url,
        gcp_logging_url=settings.gcp_logging_url,
        s3_endpoint_url=settings.s3_endpoint_url,
    )
