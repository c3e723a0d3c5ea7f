"""Failed sign-ins per login: the counter behind sign-in throttling."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from auditwire.domain.events import as_utc
from auditwire.store.schema import sign_in_failures


async def failures_since(conn: AsyncConnection, digest: str, since: datetime) -> int:
    """Failures counted in a window that started at or after `since`."""
    query = sa.select(sign_in_failures.c.failures, sign_in_failures.c.window_started_at).where(
        sign_in_failures.c.login_digest == digest
    )
    row = (await conn.execute(query)).first()
    if row is None or as_utc(row.window_started_at) < since:
        return 0
    return int(row.failures)


async def count_failure(
    conn: AsyncConnection, digest: str, now: datetime, window: timedelta
) -> None:
    """One more failure; a window older than `window` starts again at one."""
    query = sa.select(sign_in_failures.c.window_started_at).where(
        sign_in_failures.c.login_digest == digest
    )
    started = (await conn.execute(query)).scalar_one_or_none()
    if started is None:
        await conn.execute(
            sign_in_failures.insert().values(login_digest=digest, failures=1, window_started_at=now)
        )
    elif as_utc(started) < now - window:
        await conn.execute(
            sign_in_failures.update()
            .where(sign_in_failures.c.login_digest == digest)
            .values(failures=1, window_started_at=now)
        )
    else:
        await conn.execute(
            sign_in_failures.update()
            .where(sign_in_failures.c.login_digest == digest)
            .values(failures=sign_in_failures.c.failures + 1)
        )


async def clear_failures(conn: AsyncConnection, digest: str) -> None:
    await conn.execute(sign_in_failures.delete().where(sign_in_failures.c.login_digest == digest))
