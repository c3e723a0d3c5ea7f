"""GitLab's limits on the structure of a JSON request (`Gitlab::Middleware::JsonValidation`)."""

from __future__ import annotations

from typing import Any

MAX_DEPTH = 32  # levels of nesting, as Rack's parameter parser allows
MAX_ARRAY_SIZE = 50_000  # elements of one array
MAX_HASH_SIZE = 50_000  # keys of one object
MAX_TOTAL_ELEMENTS = 100_000  # values in the whole document

TOO_DEEP = "Parameters nested too deeply"
ARRAY_TOO_LARGE = "Array parameter too large"
HASH_TOO_LARGE = "Hash parameter too large"
TOO_MANY = "Too many total parameters"


def structure_error(value: Any) -> str | None:
    """GitLab's message for the first limit the parsed document breaks, or None.

    Walked without recursion, so a document nested as deep as the parser allows costs no stack.
    """
    pending: list[tuple[Any, int]] = [(value, 1)]
    total = 0
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children = list(item.values())
            if len(children) > MAX_HASH_SIZE:
                return HASH_TOO_LARGE
        elif isinstance(item, list):
            children = item
            if len(children) > MAX_ARRAY_SIZE:
                return ARRAY_TOO_LARGE
        else:
            continue
        if depth > MAX_DEPTH:
            return TOO_DEEP
        total += len(children)
        if total > MAX_TOTAL_ELEMENTS:
            return TOO_MANY
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return None


def holds_nul(value: Any) -> bool:
    """Whether any string or key in the document holds U+0000, which PostgreSQL cannot store."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            if any("\x00" in key for key in item):
                return True
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False
