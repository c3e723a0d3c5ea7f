"""The public GraphQL API, executed in-process for the pages: the same rules, queries and
permission checks as for any client."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from auditwire.api.graphql.context import Context
from auditwire.api.graphql.schema import schema
from auditwire.services.container import Services
from auditwire.services.context import Actor


@dataclass(frozen=True, slots=True)
class Answer:
    """A GraphQL answer: its data, and every error message (top-level, then the payload's)."""

    data: dict[str, Any]
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


async def run(
    services: Services, actor: Actor | None, document: str, variables: dict[str, Any] | None = None
) -> Answer:
    result = await schema.execute(
        document, variable_values=variables or {}, context_value=Context(services, actor)
    )
    data = result.data or {}
    errors = [error.message for error in result.errors or []]
    return Answer(data, errors)


async def mutate(
    services: Services, actor: Actor | None, name: str, document: str, variables: dict[str, Any]
) -> Answer:
    """Run a mutation; the payload (`data[name]`) is the answer's data, its `errors` joined
    to the top-level ones."""
    answer = await run(services, actor, document, variables)
    payload = answer.data.get(name) or {}
    return Answer(payload, [*answer.errors, *(payload.get("errors") or [])])
