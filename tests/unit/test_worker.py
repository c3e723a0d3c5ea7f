"""The worker on the in-memory delivery manager, with fake sinks: retries, the circuit
breaker, isolation, releasing on stop, and a batch settled with a refused event."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest

from auditwire.config import Settings
from auditwire.crypto import SecretBox
from auditwire.domain.delivery import BatchClaim
from auditwire.domain.events import AuditEvent
from auditwire.domain.retry import CircuitState
from auditwire.streaming import DeliveryWorker
from auditwire.streaming.batches import BATCHES_IN_FLIGHT
from auditwire.streaming.memory import InMemoryDeliveryManager
from auditwire.streaming.sinks import SinkSet
from auditwire.streaming.sinks.base import Answer, BatchAnswer, BatchLimits, Outgoing, Verdict
from auditwire.streaming.worker import sink_settings
from tests.events import audit_event

WAIT = 10.0  # seconds: a bound on awaiting what the worker does, never a timing assertion
Script = Callable[[str, AuditEvent], Awaitable[Answer]]


class FakeSink:
    """A per-event sink whose answers a test scripts per destination (the target)."""

    category: ClassVar[str] = "http"
    script: ClassVar[Script]
    sent: ClassVar[list[tuple[str, int]]] = []

    def prepare(self, config: Mapping[str, Any], secret: str) -> str:
        return str(config["url"])

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def send(self, target: str, event: AuditEvent, body: bytes) -> Answer:
        FakeSink.sent.append((target, event.id))
        return await FakeSink.script(target, event)


class FakeBatchSink:
    """A batch sink that refuses the events a test names and delivers the rest."""

    category: ClassVar[str] = "splunk"
    refuse: ClassVar[set[int]] = set()
    batches: ClassVar[list[list[int]]] = []

    def prepare(self, config: Mapping[str, Any], secret: str) -> BatchLimits:
        batch = config.get("batch", {})
        return BatchLimits(batch.get("maxEvents", 1000), 5_000_000, batch.get("maxWaitMs", 200))

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    def limits(self, target: BatchLimits) -> BatchLimits:
        return target

    async def send_batch(self, target: BatchLimits, items: Sequence[Outgoing]) -> BatchAnswer:
        FakeBatchSink.batches.append([item.event_id for item in items])
        refused = Answer(Verdict.REFUSED, 400, "Invalid data format (HEC code 6)")
        exceptions = {i: refused for i, item in enumerate(items) if item.event_id in self.refuse}
        return BatchAnswer(Answer(Verdict.DELIVERED, 200), exceptions)


DELIVERED = Answer(Verdict.DELIVERED, 200)


async def delivered(_target: str, _event: AuditEvent) -> Answer:
    return DELIVERED


@pytest.fixture
def box() -> SecretBox:
    return SecretBox(os.urandom(32))


@pytest.fixture
def memory(box: SecretBox) -> InMemoryDeliveryManager:
    FakeSink.sent = []
    FakeSink.script = delivered
    FakeBatchSink.batches = []
    FakeBatchSink.refuse = set()
    return InMemoryDeliveryManager(box)


@pytest.fixture
async def start(
    tmp_path: Path, memory: InMemoryDeliveryManager, box: SecretBox
) -> AsyncIterator[Callable[..., Awaitable[DeliveryWorker]]]:
    workers: list[DeliveryWorker] = []

    async def started(
        batch_sink: type = FakeBatchSink,
        manager: InMemoryDeliveryManager | None = None,
        **overrides: Any,
    ) -> DeliveryWorker:
        settings = Settings(
            data_dir=tmp_path,
            database_url=f"sqlite:///{tmp_path / 'unused.db'}",
            secret_key="",
            delivery_poll_interval=0.05,
            delivery_retry_base=0.01,
            delivery_retry_max=0.02,
            delivery_circuit_probe_base=0.05,
            delivery_circuit_probe_max=0.1,
            **overrides,
        )
        sinks = SinkSet(
            sink_settings(settings),
            sinks={"http": lambda _s: FakeSink()},
            batch_sinks={"splunk": lambda _s: batch_sink()},
        )
        worker = DeliveryWorker(settings, manager or memory, box, sinks=sinks)
        await worker.start()
        workers.append(worker)
        return worker

    yield started
    for worker in workers:
        await worker.stop(grace=0.5)


async def settled_when(memory: InMemoryDeliveryManager, condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(WAIT):
        await memory.wait_for(condition)


async def test_a_failed_delivery_is_retried_until_delivered(
    memory: InMemoryDeliveryManager, start: Callable[..., Awaitable[DeliveryWorker]]
) -> None:
    answers = [Answer(Verdict.RETRY, 503, "HTTP 503"), DELIVERED]

    async def flaky(_target: str, _event: AuditEvent) -> Answer:
        return answers.pop(0)

    FakeSink.script = flaky
    dest = memory.add_destination(category="http", config={"url": "a"})
    memory.enqueue(audit_event(1))
    await start()
    await settled_when(memory, lambda: memory.delivered == [(dest, 1)])
    assert [a.outcome.value for a in memory.attempts] == ["retry", "delivered"]
    assert memory.attempts[0].error == "HTTP 503"


async def test_the_circuit_opens_after_failures_and_a_probe_closes_it(
    memory: InMemoryDeliveryManager, start: Callable[..., Awaitable[DeliveryWorker]]
) -> None:
    healthy = asyncio.Event()

    async def down_then_up(_target: str, _event: AuditEvent) -> Answer:
        return DELIVERED if healthy.is_set() else Answer(Verdict.RETRY, 500, "HTTP 500")

    FakeSink.script = down_then_up
    dest = memory.add_destination(category="http", config={"url": "a"})
    for event_id in (1, 2, 3):
        memory.enqueue(audit_event(event_id))
    await start(delivery_circuit_failures=2)
    await settled_when(memory, lambda: memory.circuit(dest).state is CircuitState.OPEN)
    healthy.set()
    await settled_when(memory, lambda: len(memory.delivered) == 3)
    assert memory.circuit(dest).state is CircuitState.CLOSED
    assert sorted(e for _d, e in memory.delivered) == [1, 2, 3]


async def test_a_slow_destination_does_not_delay_another(
    memory: InMemoryDeliveryManager, start: Callable[..., Awaitable[DeliveryWorker]]
) -> None:
    release = asyncio.Event()

    async def slow_for_a(target: str, _event: AuditEvent) -> Answer:
        if target == "a":
            await release.wait()
        return DELIVERED

    FakeSink.script = slow_for_a
    slow = memory.add_destination(category="http", config={"url": "a"})
    fast = memory.add_destination(category="http", config={"url": "b"})
    for event_id in range(1, 21):
        memory.enqueue(audit_event(event_id))
    await start(delivery_concurrency_per_destination=2)
    await settled_when(memory, lambda: sum(1 for d, _e in memory.delivered if d == fast) == 20)
    assert not [d for d, _e in memory.delivered if d == slow]
    release.set()
    await settled_when(memory, lambda: len(memory.delivered) == 40)


async def test_stop_releases_what_was_claimed_and_not_sent(
    memory: InMemoryDeliveryManager, start: Callable[..., Awaitable[DeliveryWorker]]
) -> None:
    never, sending = asyncio.Event(), asyncio.Event()

    async def hangs(_target: str, _event: AuditEvent) -> Answer:
        sending.set()
        await never.wait()
        return DELIVERED

    FakeSink.script = hangs
    dest = memory.add_destination(category="http", config={"url": "a"})
    for event_id in (1, 2, 3):
        memory.enqueue(audit_event(event_id))
    worker = await start(delivery_concurrency_per_destination=1)
    async with asyncio.timeout(WAIT):
        await sending.wait()
    await worker.stop(grace=0)
    pending = memory.pending(dest)
    assert len(pending) == 3  # nothing lost
    assert memory.released == 1  # the attempt cut short is given back, not counted
    assert [d.attempts for d in pending] == [0, 0, 0]


async def test_a_batch_is_settled_at_once_with_its_refused_event_failed(
    memory: InMemoryDeliveryManager, start: Callable[..., Awaitable[DeliveryWorker]]
) -> None:
    FakeBatchSink.refuse = {2}
    dest = memory.add_destination(
        category="splunk", config={"url": "https://hec", "batch": {"maxEvents": 3}}
    )
    for event_id in (1, 2, 3):
        memory.enqueue(audit_event(event_id))
    await start()
    await settled_when(memory, lambda: len(memory.delivered) == 2 and len(memory.failed(dest)) == 1)
    assert FakeBatchSink.batches == [[1, 2, 3]]
    assert sorted(e for _d, e in memory.delivered) == [1, 3]
    (failed,) = memory.failed(dest)
    assert (failed.event.id, failed.last_error) == (2, "Invalid data format (HEC code 6)")
    (attempt,) = memory.attempts
    assert (attempt.event_count, attempt.event_id, attempt.last_event_id) == (3, 1, 3)
    assert attempt.outcome.value == "delivered"


async def test_stop_releases_a_partial_batch_that_waits(
    memory: InMemoryDeliveryManager, start: Callable[..., Awaitable[DeliveryWorker]]
) -> None:
    dest = memory.add_destination(
        category="splunk",
        config={"url": "https://hec", "batch": {"maxEvents": 10, "maxWaitMs": 60_000}},
    )
    memory.enqueue(audit_event(1))
    worker = await start()
    # Claimed, and held for more events.
    await settled_when(memory, lambda: memory.pending(dest)[0].attempts == 1)
    await worker.stop()
    assert FakeBatchSink.batches == []
    assert [(d.event.id, d.attempts) for d in memory.pending(dest)] == [(1, 0)]


class GatedBatchSink(FakeBatchSink):
    """Batches to the target named "slow" wait for a gate; answers can be scripted."""

    gate: ClassVar[asyncio.Event]
    answer: ClassVar[Answer] = DELIVERED

    def prepare(self, config: Mapping[str, Any], secret: str) -> Any:
        return (str(config["url"]), super().prepare(config, secret))

    def limits(self, target: Any) -> BatchLimits:
        return target[1]

    async def send_batch(self, target: Any, items: Sequence[Outgoing]) -> BatchAnswer:
        if target[0] == "slow":
            await GatedBatchSink.gate.wait()
        FakeBatchSink.batches.append([item.event_id for item in items])
        return BatchAnswer(GatedBatchSink.answer)


@pytest.fixture
def gated(start: Callable[..., Awaitable[DeliveryWorker]]) -> Callable[..., Any]:
    GatedBatchSink.gate = asyncio.Event()
    GatedBatchSink.answer = DELIVERED

    async def started(**overrides: Any) -> DeliveryWorker:
        return await start(GatedBatchSink, **overrides)

    return started


async def test_a_slow_batch_destination_delays_no_other_destination(
    memory: InMemoryDeliveryManager, gated: Callable[..., Awaitable[DeliveryWorker]]
) -> None:
    slow = memory.add_destination(category="splunk", config={"url": "slow"})
    other = memory.add_destination(category="splunk", config={"url": "fast"})
    plain = memory.add_destination(category="http", config={"url": "a"})
    for event_id in range(1, 11):
        memory.enqueue(audit_event(event_id))
    await gated()
    await settled_when(memory, lambda: not memory.pending(other) and not memory.pending(plain))
    assert len(memory.pending(slow)) == 10
    GatedBatchSink.gate.set()
    await settled_when(memory, lambda: not memory.pending(slow))
    assert sorted(e for d, e in memory.delivered if d == slow) == list(range(1, 11))


async def test_a_failing_batch_destination_opens_its_circuit_and_a_probe_drains_it(
    memory: InMemoryDeliveryManager, gated: Callable[..., Awaitable[DeliveryWorker]]
) -> None:
    GatedBatchSink.gate.set()
    GatedBatchSink.answer = Answer(Verdict.RETRY, 503, "Server is busy (HEC code 9)")
    dest = memory.add_destination(category="splunk", config={"url": "fast"})
    for event_id in range(1, 6):
        memory.enqueue(audit_event(event_id))
    await gated(delivery_circuit_failures=2)
    await settled_when(memory, lambda: memory.circuit(dest).state is CircuitState.OPEN)
    # A failed batch is one failed attempt: two batches opened the circuit.
    failures = [a for a in memory.attempts if a.outcome.value == "retry"]
    assert len(failures) == 2 and all(a.event_count == 5 for a in failures)
    assert all(d.last_error == "Server is busy (HEC code 9)" for d in memory.pending(dest))
    GatedBatchSink.answer = DELIVERED
    await settled_when(memory, lambda: not memory.pending(dest))
    assert memory.circuit(dest).state is CircuitState.CLOSED
    assert sorted(e for _d, e in memory.delivered) == [1, 2, 3, 4, 5]


class SideBySide(InMemoryDeliveryManager):
    """Batch claims that take a moment, as a database's do, counted while they run."""

    claims_at_once = 2

    def __init__(self, box: SecretBox) -> None:
        super().__init__(box)
        self.running = 0
        self.most_at_once = 0

    async def claim_batch(self, *args: Any, **kwargs: Any) -> BatchClaim:
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            await asyncio.sleep(0.005)
            return await super().claim_batch(*args, **kwargs)
        finally:
            self.running -= 1


class HeldBatchSink(GatedBatchSink):
    """Every batch waits at the gate; counts the batches waiting there."""

    waiting: ClassVar[int] = 0
    all_held: ClassVar[asyncio.Event]

    async def send_batch(self, target: Any, items: Sequence[Outgoing]) -> BatchAnswer:
        HeldBatchSink.waiting += 1
        if HeldBatchSink.waiting >= BATCHES_IN_FLIGHT:
            HeldBatchSink.all_held.set()
        try:
            await GatedBatchSink.gate.wait()
        finally:
            HeldBatchSink.waiting -= 1
        FakeBatchSink.batches.append([item.event_id for item in items])
        return BatchAnswer(DELIVERED)


async def test_a_backlog_is_claimed_two_batches_side_by_side_within_the_send_bound(
    box: SecretBox, start: Callable[..., Awaitable[DeliveryWorker]]
) -> None:
    GatedBatchSink.gate = asyncio.Event()
    HeldBatchSink.all_held = asyncio.Event()
    manager = SideBySide(box)
    dest = manager.add_destination(
        category="splunk", config={"url": "held", "batch": {"maxEvents": 10, "maxWaitMs": 50}}
    )
    for event_id in range(1, 101):
        manager.enqueue(audit_event(event_id))
    await start(HeldBatchSink, manager)
    async with asyncio.timeout(WAIT):
        await HeldBatchSink.all_held.wait()
    await asyncio.sleep(0.1)  # room for a claim too many, if the lane made one
    # The sends wait at the gate: the lane claimed no more than its batches in flight.
    assert HeldBatchSink.waiting == BATCHES_IN_FLIGHT
    assert sum(d.leased for d in manager.pending(dest)) == 10 * BATCHES_IN_FLIGHT
    GatedBatchSink.gate.set()
    await settled_when(manager, lambda: not manager.pending(dest))
    assert manager.most_at_once == 2
    assert all(len(batch) == 10 for batch in FakeBatchSink.batches)
    assert sorted(e for batch in FakeBatchSink.batches for e in batch) == list(range(1, 101))
    assert sorted(e for _d, e in manager.delivered) == list(range(1, 101))


class ShortFirst(InMemoryDeliveryManager):
    """Claims whose answers come back later the earlier they were made: of two side by
    side, the second one (which found only the rest of the backlog) returns first."""

    claims_at_once = 2

    def __init__(self, box: SecretBox, delays: list[float]) -> None:
        super().__init__(box)
        self.delays = delays

    async def claim_batch(self, *args: Any, **kwargs: Any) -> BatchClaim:
        claimed = await super().claim_batch(*args, **kwargs)
        await asyncio.sleep(self.delays.pop(0) if self.delays else 0.0)
        return claimed


async def test_claims_side_by_side_never_send_more_than_a_batch_at_once(
    box: SecretBox, start: Callable[..., Awaitable[DeliveryWorker]]
) -> None:
    manager = ShortFirst(box, [0.0, 0.1, 0.0])
    dest = manager.add_destination(
        category="splunk", config={"url": "https://hec", "batch": {"maxEvents": 10}}
    )
    for event_id in range(1, 26):
        manager.enqueue(audit_event(event_id))
    await start(FakeBatchSink, manager)
    await settled_when(manager, lambda: not manager.pending(dest))
    assert sorted(len(batch) for batch in FakeBatchSink.batches) == [5, 10, 10]
    assert sorted(e for batch in FakeBatchSink.batches for e in batch) == list(range(1, 26))
