"""Wake workers in other processes: PostgreSQL LISTEN on a dedicated connection."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import asyncpg
from sqlalchemy.engine import URL

from auditwire.store.deliveries import NOTIFY_CHANNEL

RECONNECT_DELAY = 2.0  # seconds between attempts when the listening connection is lost
CONNECT_TIMEOUT = 5.0  # seconds

log = logging.getLogger(__name__)


def asyncpg_dsn(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def listen(url: URL, on_notify: Callable[[], None]) -> None:
    """Call `on_notify` on every NOTIFY until cancelled, reconnecting when the connection
    drops. Missed notifications only delay work: workers also poll."""
    dsn = asyncpg_dsn(url)
    while True:
        try:
            conn = await asyncpg.connect(dsn, timeout=CONNECT_TIMEOUT)
        except (OSError, asyncpg.PostgresError, TimeoutError) as error:
            log.warning("cannot listen for new deliveries (%s); polling meanwhile", error)
            await asyncio.sleep(RECONNECT_DELAY)
            continue
        lost = asyncio.Event()
        try:
            conn.add_termination_listener(lambda _conn, lost=lost: lost.set())
            await conn.add_listener(NOTIFY_CHANNEL, lambda *_args: on_notify())
            on_notify()  # anything recorded while we were not listening
            await lost.wait()
        finally:
            if not conn.is_closed():
                await asyncio.shield(conn.close(timeout=CONNECT_TIMEOUT))
        await asyncio.sleep(RECONNECT_DELAY)
