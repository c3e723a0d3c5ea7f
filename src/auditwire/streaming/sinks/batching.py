"""What batch sinks share: the `batch` config rules, cutting a batch into requests the
receiver takes, and splitting a refused request to isolate the event it refused."""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from auditwire.domain import batch_rules as rules
from auditwire.streaming.sinks._answers import answered
from auditwire.streaming.sinks.base import (
    BYTES_CEILING,
    DEFAULT_WAIT_MS,
    EVENTS_CEILING,
    Answer,
    BatchAnswer,
    BatchLimits,
    Verdict,
)

# Requests one batch may take while it is cut or split: enough to isolate a few bad events
# in 1,000 by halving (about 2 * log2(1000) each), and a bound on what one batch can cost.
MAX_REQUESTS = 64


def batch_limits(config: Mapping[str, Any], *, ceiling: BatchLimits) -> BatchLimits:
    """The `batch` config object held to the kind's `ceiling` (the domain's rule, see
    `domain.batch_rules.batch_limits`); absent keys take the ceiling's values."""
    events, size, wait = rules.batch_limits(
        config,
        max_events=ceiling.max_events,
        max_bytes=ceiling.max_bytes,
        max_wait_ms=ceiling.max_wait_ms,
    )
    return BatchLimits(events, size, wait)


DEFAULT_LIMITS = BatchLimits(EVENTS_CEILING, BYTES_CEILING, DEFAULT_WAIT_MS)


def cut(sizes: Sequence[int], *, max_events: int, max_bytes: int) -> list[list[int]]:
    """Indices of consecutive items grouped into parts of at most `max_events` items and
    `max_bytes` bytes (`sizes` are each item's encoded size); an item larger than
    `max_bytes` makes a part of its own, for the receiver to refuse."""
    parts: list[list[int]] = []
    current: list[int] = []
    used = 0
    for index, size in enumerate(sizes):
        if current and (len(current) >= max_events or used + size > max_bytes):
            parts.append(current)
            current, used = [], 0
        current.append(index)
        used += size
    if current:
        parts.append(current)
    return parts


@dataclass(frozen=True, slots=True)
class PartAnswer:
    """What one request of a batch got. `split` says the receiver refused the part for
    something one of its events does (a malformed event, too large a body): the part is
    halved, and a part of one event is refused with `answer.detail` as the reason.
    `bad_index`, when the receiver names it, is the position in the part of the bad event."""

    answer: Answer
    split: bool = False
    bad_index: int | None = None


Attempt = Callable[[Sequence[int]], Awaitable[PartAnswer]]


async def part_answered(attempt: Awaitable[PartAnswer]) -> PartAnswer:
    """Await one request of a batch; no response, or any fault on the way, is retried with
    its reason (as `answered` does for one event). Cancellation still propagates."""
    outcome: list[PartAnswer] = []

    async def unwrapped() -> Answer:
        outcome.append(await attempt)
        return outcome[0].answer

    answer = await answered(unwrapped())
    return outcome[0] if outcome else PartAnswer(answer)


async def send_in_parts(
    parts: Sequence[Sequence[int]], attempt: Attempt, *, max_requests: int = MAX_REQUESTS
) -> BatchAnswer:
    """Send each part with `attempt`, splitting the parts it asks to split, and gather one
    answer per item. Once a part is to be retried (the receiver is busy or failing) the
    parts not yet sent wait for that retry too, so a struggling receiver is not pressed."""
    results: dict[int, Answer] = {}
    pending: deque[Sequence[int]] = deque(part for part in parts if part)
    requests = 0
    stop: Answer | None = None
    while pending:
        part = pending.popleft()
        if stop is None and requests >= max_requests:
            stop = Answer(
                Verdict.RETRY, detail=f"the batch took {requests} requests; the rest is retried"
            )
        if stop is not None:
            results.update(dict.fromkeys(part, stop))
            continue
        requests += 1
        outcome = await attempt(part)
        if not outcome.split:
            results.update(dict.fromkeys(part, outcome.answer))
            if outcome.answer.verdict in (Verdict.RETRY, Verdict.GONE):
                stop = outcome.answer
            continue
        refused = Answer(Verdict.REFUSED, outcome.answer.status, outcome.answer.detail)
        if len(part) == 1:
            results[part[0]] = refused
            continue
        bad = outcome.bad_index
        if bad is not None and 0 <= bad < len(part):
            results[part[bad]] = refused
            pieces = [part[:bad], part[bad + 1 :]]
        else:
            middle = len(part) // 2
            pieces = [part[:middle], part[middle:]]
        pending.extendleft(piece for piece in reversed(pieces) if piece)
    return _gathered(results, requests)


def _gathered(results: Mapping[int, Answer], requests: int) -> BatchAnswer:
    """One answer for the batch, the others as exceptions: a retry or a deactivation when
    any part got one (what the batch still needs), else the delivered answer, else the
    refusal. A batch that took more than one request says so in its detail."""
    answers = list(results.values())
    main = next(
        (a for a in answers if a.verdict in (Verdict.GONE, Verdict.RETRY)),
        next((a for a in answers if a.verdict is Verdict.DELIVERED), answers[0]),
    )
    # Most items share their part's one Answer object: `is` settles them without comparing.
    exceptions = {
        i: answer for i, answer in results.items() if answer is not main and answer != main
    }
    if requests == 1 and not exceptions:
        return BatchAnswer(main, {}, requests)
    refused = sum(1 for answer in exceptions.values() if answer.verdict is Verdict.REFUSED)
    notes = [f"{requests} requests"]
    if refused:
        notes.append(f"{refused} of {len(results)} events refused")
    summary = ", ".join(notes)
    detail = f"{main.detail} ({summary})" if main.detail else summary
    summarised = Answer(main.verdict, main.status, detail, main.retry_after)
    return BatchAnswer(summarised, exceptions, requests)
