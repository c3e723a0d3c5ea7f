"""What a GraphQL request must be before the GraphQL engine sees it.

GitLab's controller refuses a query longer than 10,000 characters (`Query too large`) before
parsing it; a body that is not a JSON object with a string `query` is refused here too, so
the engine only ever parses a small, well-formed request. Each refusal is a status and a
message, answered as `{"errors": [{"message": ...}]}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import orjson

from auditwire.api.json_limits import holds_nul, structure_error

MAX_QUERY_SIZE = 10_000  # characters of query text, GitLab's `GraphqlController::MAX_QUERY_SIZE`
QUERY_TOO_LARGE = "Query too large"
NO_QUERY = "No query string was present"
_JSON_TYPES = frozenset({"application/json", "application/graphql-response+json"})


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int
    message: str


def _refuse_params(query: Any, variables: Any, operation_name: Any) -> Refusal | None:
    if query is None:
        return Refusal(400, NO_QUERY)
    if not isinstance(query, str):
        return Refusal(400, "query must be a string")
    if len(query) > MAX_QUERY_SIZE:
        return Refusal(422, QUERY_TOO_LARGE)
    if "\x00" in query or "\\u0000" in query:
        return Refusal(400, "query must not contain NUL characters")
    if variables is not None and not isinstance(variables, dict):
        return Refusal(400, "variables must be a JSON object")
    if operation_name is not None and not isinstance(operation_name, str):
        return Refusal(400, "operationName must be a string")
    if variables and holds_nul(variables):
        return Refusal(400, "variables must not contain NUL characters")
    return None


def _loads(raw: bytes | str, what: str) -> tuple[Any, Refusal | None]:
    try:
        return orjson.loads(raw), None
    except orjson.JSONDecodeError:
        # orjson also refuses invalid UTF-8, lone surrogates and nesting past 1,024 levels.
        return None, Refusal(400, f"{what} is not valid JSON")


def check_get(query_string: bytes) -> Refusal | None:
    """A query sent as `GET ?query=…&variables=…`."""
    try:
        params = parse_qs(query_string.decode("latin-1"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        return Refusal(400, "query string is not valid UTF-8")
    if "query" not in params:
        return None  # not a GraphQL request the engine will run; it answers itself
    variables: Any = None
    if params.get("variables", [""])[-1]:
        variables, refusal = _loads(params["variables"][-1], "variables")
        if refusal is not None:
            return refusal
        if (message := structure_error(variables)) is not None:
            return Refusal(400, message)
    return _refuse_params(params["query"][-1], variables, params.get("operationName", [None])[-1])


def check_post(content_type: str, body: bytes) -> Refusal | None:
    """A query sent as a JSON body."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type not in _JSON_TYPES:
        return Refusal(415, "Content-Type must be application/json")
    data, refusal = _loads(body, "Request body")
    if refusal is not None:
        return refusal
    if not isinstance(data, dict):
        return Refusal(400, "Request body must be a JSON object")
    if (message := structure_error(data)) is not None:
        return Refusal(400, message)
    return _refuse_params(data.get("query"), data.get("variables"), data.get("operationName"))
