"""Relay connections (`nodes`, `edges { node cursor }`, `pageInfo`) over short lists.

Destinations and headers are few per owner (a handful, at most 20 headers), so a connection
is cut from the whole list in memory. Cursors are opaque, base64 JSON of the record id, as
GitLab's are.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import strawberry

from auditwire.errors import InvalidInput

MAX_PAGE_SIZE = 100  # nodes, GitLab's default max_page_size

T = TypeVar("T")
R = TypeVar("R")

INVALID_CURSOR = "Please provide a valid cursor"


@strawberry.type(description="Information about pagination in a connection.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    nodes: list[T]
    page_info: PageInfo


def encode_cursor(record_id: int) -> str:
    return base64.b64encode(json.dumps({"id": str(record_id)}).encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        data = json.loads(base64.b64decode(cursor, validate=True))
        return int(data["id"])
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise InvalidInput(INVALID_CURSOR) from None


def connection(
    records: Sequence[R],
    convert: Callable[[R], T],
    record_id: Callable[[R], int],
    *,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[T]:
    """The slice of `records` (ordered by id) that Relay's arguments select."""
    for count in (first, last):
        if count is not None and count < 0:
            raise InvalidInput("Argument 'first' and 'last' must be non-negative")
    window = list(records)
    start, end = 0, len(window)
    if after is not None:
        after_id = decode_cursor(after)
        start = next((i for i, r in enumerate(window) if record_id(r) > after_id), len(window))
    if before is not None:
        before_id = decode_cursor(before)
        end = next((i for i, r in enumerate(window) if record_id(r) >= before_id), len(window))
    end = max(start, end)
    size = min(first if first is not None else MAX_PAGE_SIZE, MAX_PAGE_SIZE)
    if end - start > size:
        end = start + size
    if last is not None and end - start > last:
        start = end - last
    chosen = window[start:end]
    edges = [Edge(cursor=encode_cursor(record_id(r)), node=convert(r)) for r in chosen]
    return Connection(
        edges=edges,
        nodes=[e.node for e in edges],
        page_info=PageInfo(
            has_next_page=end < len(window),
            has_previous_page=start > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )
