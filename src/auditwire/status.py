"""`auditwire status`: the delivery queue and each destination's health, for the terminal."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TextIO

from rich.console import Console
from rich.table import Table

from auditwire.config import Settings
from auditwire.domain.delivery_log import DestinationHealth, HealthState, QueueStats
from auditwire.domain.events import utcnow
from auditwire.store import Store
from auditwire.store import delivery_ops as ops_store
from auditwire.store import namespaces as namespaces_store

STATE_STYLES = {
    HealthState.HEALTHY: "green",
    HealthState.FAILING: "yellow",
    HealthState.CIRCUIT_OPEN: "bold red",
    HealthState.INACTIVE: "dim",
}
ERROR_WIDTH = 60  # characters of the last error shown in the table
PIPE_WIDTH = 1000  # characters: piped or redirected output is never cut to a terminal's width


def status_console(file: TextIO | None = None) -> Console:
    """A console for `auditwire status`: a terminal's width, or unbounded lines when the
    output is piped or redirected (rich would otherwise cut the table to 80 columns)."""
    out = file or sys.stdout
    if out.isatty():
        return Console(file=out)
    return Console(file=out, width=PIPE_WIDTH, no_color=True)


def format_age(seconds: float) -> str:
    """`0s`, `42s`, `3m 05s`, `2h 03m`, `4d 01h`: short enough for a table cell."""
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def _ago(moment: datetime | None, now: datetime) -> str:
    return "never" if moment is None else format_age((now - moment).total_seconds()) + " ago"


def _error(error: str | None, console: Console) -> str:
    text = error or ""
    return text[:ERROR_WIDTH] if console.is_terminal else text


def render(
    console: Console,
    stats: QueueStats,
    healths: list[DestinationHealth],
    now: datetime,
    group_paths: dict[int, str] | None = None,
) -> None:
    """Print the queue figures, then one table row per destination, with the full path of
    its group (`-` for instance destinations)."""
    paths = group_paths or {}
    console.print(f"Pending deliveries: {stats.pending}")
    oldest = format_age(stats.oldest_pending_age(now)) if stats.pending else "-"
    console.print(f"Oldest pending: {oldest}")
    console.print(f"Failed deliveries: {stats.failed}")
    console.print(f"Open circuits: {stats.open_circuits}")
    table = Table(title="Destinations")
    for column in (
        "ID",
        "Kind",
        "Group",
        "Name",
        "State",
        "Pending",
        "Failed",
        "Failures in a row",
    ):
        table.add_column(
            column, justify="right" if column in {"ID", "Pending", "Failed"} else "left"
        )
    table.add_column("Last success")
    table.add_column("Last failure")
    table.add_column("Last error", overflow="fold")
    for h in healths:
        table.add_row(
            str(h.destination_id),
            h.kind.value,
            "-" if h.group_id is None else paths.get(h.group_id, str(h.group_id)),
            h.name,
            f"[{STATE_STYLES[h.state]}]{h.state.value}[/]",
            str(h.pending_count),
            str(h.failed_count),
            str(h.consecutive_failures),
            _ago(h.last_success_at, now),
            _ago(h.last_failure_at, now),
            _error(h.last_error, console),
        )
    if healths:
        console.print(table)
    else:
        console.print("No streaming destinations.")


async def show_status(settings: Settings, console: Console) -> None:
    """Read the figures from the database and print them."""
    store = Store(settings.resolved_database_url)
    try:
        async with store.read() as conn:
            stats = await ops_store.queue_stats(conn)
            healths = await ops_store.destination_health(conn)
            group_ids = sorted({h.group_id for h in healths if h.group_id is not None})
            groups = await namespaces_store.get_groups(conn, group_ids)
    finally:
        await store.close()
    render(console, stats, healths, utcnow(), {g.id: g.full_path for g in groups})
