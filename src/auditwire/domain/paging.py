"""Offset pagination's bounds, shared by every reader that pages (the REST API, the pages)."""

from __future__ import annotations

MAX_PAGE = 10_000_000  # keeps the offset of any page within a 64-bit integer
