"""Offset pagination with a total, as GitLab's REST API reports it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

T = TypeVar("T")


async def page(
    conn: AsyncConnection,
    query: sa.Select[Any],
    order: sa.ColumnElement[Any],
    offset: int,
    limit: int,
    convert: Callable[[sa.Row[Any]], T],
) -> tuple[list[T], int]:
    """One page of `query` in `order`, and how many rows the whole query has."""
    counted = sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    total = (await conn.execute(counted)).scalar_one()
    rows = await conn.execute(query.order_by(order).offset(offset).limit(limit))
    return [convert(r) for r in rows], total


def is_at_or_below(
    path: sa.ColumnElement[str], ancestor: sa.ColumnElement[str]
) -> sa.ColumnElement[bool]:
    """`path` equals `ancestor` or lies below it; exact, unlike LIKE with `_` in paths."""
    prefix = sa.func.substr(path, 1, sa.func.length(ancestor) + 1)
    return sa.or_(path == ancestor, prefix == ancestor + "/")
