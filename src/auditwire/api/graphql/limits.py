"""GitLab's limits on a GraphQL operation: depth and complexity, by who is asking.

Both are measured once per document: each fragment is measured once and its figures reused
at every spread, so fifteen levels of fragments spread three times each cost fifteen
measurements, not 3**15 walks. The limits are checked before graphql-core's own validation
runs (some of its rules are quadratic in the number of fields), and an operation over a
limit is refused before anything executes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_introspection_query,
    parse,
)
from strawberry.extensions import SchemaExtension

from auditwire.services.context import Actor
from auditwire.store.database import bounded_reads

# GitLab's `GitlabSchema`: complexity and depth by caller.
DEFAULT_MAX_COMPLEXITY = 200  # anonymous
AUTHENTICATED_MAX_COMPLEXITY = 250
ADMIN_MAX_COMPLEXITY = 300
# GitLab lets anonymous callers run its GraphiQL's introspection query (226 as graphql-ruby
# counts it); `INTROSPECTION_MAX_COMPLEXITY` below is the same allowance as counted here.
GITLAB_INTROSPECTION_MAX_COMPLEXITY = 226
INTROSPECTION_OPERATION = "IntrospectionQuery"
DEFAULT_MAX_DEPTH = 15  # anonymous
AUTHENTICATED_MAX_DEPTH = 20
# Database reads one request may have in flight at once: resolvers run concurrently, and
# one operation must never hold the whole connection pool while other requests wait.
READS_PER_REQUEST = 4


@dataclass(frozen=True, slots=True)
class Limits:
    complexity: int
    depth: int


@dataclass(frozen=True, slots=True)
class Cost:
    depth: int
    complexity: int


def full_introspection_query() -> str:
    """graphql-core's standard introspection query with every option, as GraphiQL sends it."""
    return get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )


def _introspection_cost() -> int:
    document = parse(full_introspection_query())
    return max(cost.complexity for _operation, cost in measure(document))


def limits_for(actor: Actor | None, operation_name: str | None) -> Limits:
    """GitLab's figures for this caller."""
    if actor is not None:
        complexity = ADMIN_MAX_COMPLEXITY if actor.is_admin else AUTHENTICATED_MAX_COMPLEXITY
        return Limits(complexity, AUTHENTICATED_MAX_DEPTH)
    if operation_name == INTROSPECTION_OPERATION:
        return Limits(INTROSPECTION_MAX_COMPLEXITY, DEFAULT_MAX_DEPTH)
    return Limits(DEFAULT_MAX_COMPLEXITY, DEFAULT_MAX_DEPTH)


class _Measure:
    """Depth and complexity of a document's operations, each fragment measured once."""

    def __init__(self, document: DocumentNode) -> None:
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.measured: dict[str, Cost] = {}
        self.open: set[str] = set()

    def selections(self, selection_set: SelectionSetNode | None) -> Cost:
        if selection_set is None:
            return Cost(0, 0)
        depth = complexity = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                inner = self.selections(selection.selection_set)
                cost = Cost(inner.depth + 1, inner.complexity + 1)
            elif isinstance(selection, InlineFragmentNode):
                cost = self.selections(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                cost = self.fragment(selection.name.value)
            else:  # pragma: no cover - graphql-core has no other selection
                continue
            depth = max(depth, cost.depth)
            complexity += cost.complexity
        return Cost(depth, complexity)

    def fragment(self, name: str) -> Cost:
        known = self.measured.get(name)
        if known is not None:
            return known
        definition = self.fragments.get(name)
        if definition is None:  # graphql-core's validation names the unknown fragment
            return Cost(0, 0)
        if name in self.open:
            raise GraphQLError(f'Cannot spread fragment "{name}" within itself.')
        self.open.add(name)
        cost = self.selections(definition.selection_set)
        self.open.discard(name)
        self.measured[name] = cost
        return cost


def measure(document: DocumentNode) -> Iterator[tuple[OperationDefinitionNode, Cost]]:
    """Each operation of the document with its cost; raises GraphQLError on a fragment cycle."""
    measuring = _Measure(document)
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            yield definition, measuring.selections(definition.selection_set)


def check(document: DocumentNode, limits: Limits) -> GraphQLError | None:
    """The error that refuses this document, in graphql-ruby's words, or None."""
    try:
        for _operation, cost in measure(document):
            if cost.depth > limits.depth:
                return GraphQLError(
                    f"Query has depth of {cost.depth}, which exceeds max depth of {limits.depth}"
                )
            if cost.complexity > limits.complexity:
                return GraphQLError(
                    f"Query has complexity of {cost.complexity}, "
                    f"which exceeds max complexity of {limits.complexity}"
                )
    except GraphQLError as error:
        return error
    except RecursionError:
        return GraphQLError("Query is nested too deeply")
    return None


INTROSPECTION_MAX_COMPLEXITY = max(GITLAB_INTROSPECTION_MAX_COMPLEXITY, _introspection_cost())


class QueryLimits(SchemaExtension):
    """Refuse an operation over GitLab's limits before it is validated or run, and bound the
    database reads that one operation has in flight."""

    def on_operation(self) -> Iterator[None]:
        with bounded_reads(READS_PER_REQUEST):
            yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.pre_execution_errors is None:
            actor = getattr(context.context, "actor", None)
            error = check(document, limits_for(actor, context.operation_name))
            if error is not None:
                # Set before graphql-core's validation runs, which is then skipped.
                context.pre_execution_errors = [error]
        yield
