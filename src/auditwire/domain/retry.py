"""Delivery rules as pure functions: outcomes, backoff, maximum age and the circuit breaker.

Nothing here does I/O or reads a clock: callers pass `now` and, for jitter, a random source,
so every decision is a function of its arguments and unit-tested without a network.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum

RETRY_BASE = 4.0  # seconds: the first retry comes within 2 to 4 s
RETRY_MAX = 3600.0  # seconds: no delay between two attempts grows past an hour
# seconds: older undelivered deliveries are marked failed. Seven days, the buffer GitHub's
# audit log streaming keeps while a stream's endpoint is down.
MAX_AGE = 7 * 86400.0
CIRCUIT_FAILURES = 5  # consecutive failures that open a destination's circuit
PROBE_BASE = 15.0  # seconds: the first probe after the circuit opens
PROBE_MAX = 900.0  # seconds: probes never wait longer (GitLab opens its circuit for 15 min)
STATUS_GONE = 410


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    GONE = "gone"  # 410: the receiver asks us to stop; the destination is deactivated


def classify(status: int | None) -> Outcome:
    """What a response means. None stands for no response: a timeout or a connection error.

    Only 2xx is delivered. Redirects are not followed (a destination that moved must be
    updated by its owner), so 3xx is retried like any other failure.
    """
    if status is not None and 200 <= status < 300:
        return Outcome.DELIVERED
    if status == STATUS_GONE:
        return Outcome.GONE
    return Outcome.RETRY


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base: float = RETRY_BASE  # seconds
    cap: float = RETRY_MAX  # seconds
    max_age: float = MAX_AGE  # seconds


def backoff(attempt: int, policy: RetryPolicy, rng: random.Random | None = None) -> float:
    """Seconds to wait after the `attempt`-th failed attempt (1-based): capped exponential
    with equal jitter, so retries of many deliveries spread out but never come too early."""
    ceiling = min(policy.cap, policy.base * 2.0 ** max(0, min(attempt - 1, 62)))
    draw = (rng or random).random()
    return ceiling / 2.0 + draw * ceiling / 2.0


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds a `Retry-After` header asks for (delta-seconds or an HTTP-date), or None."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, (moment - now).total_seconds())


def next_delay(
    attempt: int,
    retry_after: float | None,
    policy: RetryPolicy,
    rng: random.Random | None = None,
) -> float:
    """The delay before the next attempt: the receiver's Retry-After when it gave one (within
    the cap, so a hostile value cannot park a delivery for ever), else the backoff."""
    if retry_after is not None:
        return min(policy.cap, max(0.0, retry_after))
    return backoff(attempt, policy, rng)


def expired(created_at: datetime, now: datetime, policy: RetryPolicy) -> bool:
    """True once a delivery is older than the maximum age: it is then marked failed, not retried."""
    return now - created_at >= timedelta(seconds=policy.max_age)


# The circuit breaker -------------------------------------------------------------------------


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"


class Gate(StrEnum):
    SEND = "send"  # closed: send as much as the budget allows
    PROBE = "probe"  # open and due: send exactly one delivery
    WAIT = "wait"  # open: send nothing until open_until


@dataclass(frozen=True, slots=True)
class CircuitPolicy:
    failures: int = CIRCUIT_FAILURES
    probe_base: float = PROBE_BASE  # seconds
    probe_max: float = PROBE_MAX  # seconds

    def probe_interval(self, failed_probes: int) -> float:
        """Seconds until the next probe after `failed_probes` probes failed in a row."""
        return min(self.probe_max, self.probe_base * 2.0 ** max(0, min(failed_probes, 62)))


@dataclass(frozen=True, slots=True)
class Circuit:
    """A destination's health as the workers share it through the database."""

    state: CircuitState = CircuitState.CLOSED
    consecutive_failures: int = 0
    open_until: datetime | None = None

    def gate(self, now: datetime) -> Gate:
        if self.state is CircuitState.CLOSED:
            return Gate.SEND
        if self.open_until is None or self.open_until <= now:
            return Gate.PROBE
        return Gate.WAIT

    def after_success(self) -> Circuit:
        """The first success closes the circuit, whatever its state."""
        return Circuit()

    def after_failure(self, now: datetime, policy: CircuitPolicy, *, probe: bool) -> Circuit:
        """Count a failure. The `policy.failures`-th in a row opens the circuit; a failed probe
        keeps it open for a longer interval. Failures of requests sent before it opened
        (still in flight then) do not lengthen the wait."""
        failures = self.consecutive_failures + 1
        if self.state is CircuitState.OPEN:
            if not probe:
                return self
            interval = policy.probe_interval(failures - policy.failures)
            return replace(
                self, consecutive_failures=failures, open_until=now + timedelta(seconds=interval)
            )
        if failures >= policy.failures:
            return Circuit(
                CircuitState.OPEN, failures, now + timedelta(seconds=policy.probe_interval(0))
            )
        return replace(self, consecutive_failures=failures)
