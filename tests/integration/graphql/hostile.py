"""Hostile GraphQL documents, shared by the tests and `bench/fuzz.py`."""

from __future__ import annotations

FRAGMENT_LEVELS = 15
SPREADS = 3


def fragment_bomb(levels: int = FRAGMENT_LEVELS, spreads: int = SPREADS) -> str:
    """`query { ...F0 } fragment F0 on Query { ...F1 ...F1 ...F1 x: currentUser { id } } …`:
    about 1 KB that a walker re-entering each fragment visits spreads**levels times."""
    parts = ["query { ...F0 }"]
    for level in range(levels):
        spread = " ".join([f"...F{level + 1}"] * spreads)
        parts.append(f"fragment F{level} on Query {{ {spread} x: currentUser {{ id }} }}")
    parts.append(f"fragment F{levels} on Query {{ __typename }}")
    return "\n".join(parts)


def aliases(count: int, field: str = "__typename") -> str:
    return "query { " + " ".join(f"a{n}: {field}" for n in range(count)) + " }"


def health_aliases(count: int, destinations_field: str) -> str:
    """`count` times `health` on each destination of a list the caller may read."""
    fields = " ".join(f"h{n}: health {{ state }}" for n in range(count))
    return f"query {{ {destinations_field} {{ nodes {{ {fields} }} }} }}"


def instance_health(count: int) -> str:
    return health_aliases(count, "instanceExternalAuditEventDestinations")


def string_literal(size: int) -> str:
    return 'query { group(fullPath: "' + "a" * size + '") { id } }'
