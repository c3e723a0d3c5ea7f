from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from auditwire.domain.delivery_log import (
    REPLAY_WINDOW_ORDER,
    REPLAY_WINDOW_TOO_LONG,
    HealthState,
    QueueStats,
    health_state,
    validate_replay_window,
)
from auditwire.errors import InvalidInput
from auditwire.status import format_age

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("active", "circuit_open", "failures", "state"),
    [
        (True, False, 0, HealthState.HEALTHY),
        (True, False, 2, HealthState.FAILING),
        (True, True, 5, HealthState.CIRCUIT_OPEN),
        (False, True, 5, HealthState.INACTIVE),
        (False, False, 0, HealthState.INACTIVE),
    ],
)
def test_health_state_ranks_inactive_then_open_circuit_then_failures(
    active: bool, circuit_open: bool, failures: int, state: HealthState
) -> None:
    assert (
        health_state(active=active, circuit_open=circuit_open, consecutive_failures=failures)
        is state
    )


def test_a_replay_window_is_ordered_and_at_most_30_days() -> None:
    validate_replay_window(NOW - timedelta(days=30), NOW)
    with pytest.raises(InvalidInput) as too_long:
        validate_replay_window(NOW - timedelta(days=30, seconds=1), NOW)
    assert too_long.value.message == REPLAY_WINDOW_TOO_LONG
    for after in (NOW, NOW + timedelta(seconds=1)):
        with pytest.raises(InvalidInput) as backwards:
            validate_replay_window(after, NOW)
        assert backwards.value.message == REPLAY_WINDOW_ORDER


def test_oldest_pending_age_is_zero_without_pending_deliveries() -> None:
    assert QueueStats(0, 0, None, 0).oldest_pending_age(NOW) == 0.0
    waiting = QueueStats(3, 0, NOW - timedelta(seconds=90), 0)
    assert waiting.oldest_pending_age(NOW) == 90.0


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (42.9, "42s"), (185, "3m 05s"), (7380, "2h 03m"), (349_200, "4d 01h")],
)
def test_ages_print_short_for_a_table_cell(seconds: float, text: str) -> None:
    assert format_age(seconds) == text
