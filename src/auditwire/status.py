"""`auditwire status`: the delivery queue and each destination's health, for the terminal."""

from __future__ import annotations

from datetime import datetime

from rich.console import Console
from rich.table import Table

from auditwire.config import Settings
from auditwire.domain.delivery_log import DestinationHealth, HealthState, QueueStats
from auditwire.domain.events import utcnow
from auditwire.store import Store
from auditwire.store import delivery_ops as ops_store

STATE_STYLES = {
    HealthState.HEALTHY: "green",
    HealthState.FAILING: "yellow",
    HealthState.CIRCUIT_OPEN: "bold red",
    HealthState.INACTIVE: "dim",
}
ERROR_WIDTH = 60  # characters of the last error shown in the table


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


def render(
    console: Console, stats: QueueStats, healths: list[DestinationHealth], now: datetime
) -> None:
    """Print the queue figures, then one table row per destination."""
    console.print(f"Pending deliveries: {stats.pending}")
    oldest = format_age(stats.oldest_pending_age(now)) if stats.pending else "-"
    console.print(f"Oldest pending: {oldest}")
    console.print(f"Failed deliveries: {stats.failed}")
    console.print(f"Open circuits: {stats.open_circuits}")
    table = Table(title="Destinations")
    for column in ("ID", "Kind", "Name", "State", "Pending", "Failed", "Failures in a row"):
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
            h.name,
            f"[{STATE_STYLES[h.state]}]{h.state.value}[/]",
            str(h.pending_count),
            str(h.failed_count),
            str(h.consecutive_failures),
            _ago(h.last_success_at, now),
            _ago(h.last_failure_at, now),
            (h.last_error or "")[:ERROR_WIDTH],
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
    finally:
        await store.close()
    render(console, stats, healths, utcnow())
