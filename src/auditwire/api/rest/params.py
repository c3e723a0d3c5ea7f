"""Request parameters as GitLab reads them: query string, JSON body or form body, merged."""

from __future__ import annotations

from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote

import orjson
from fastapi import Request
from pydantic import BaseModel, ValidationError

from auditwire.errors import InvalidInput

M = TypeVar("M", bound=BaseModel)

_FORM = "application/x-www-form-urlencoded"


def _add(params: dict[str, Any], key: str, value: str) -> None:
    """`scopes[]=a&scopes[]=b` is a list, as Rails reads it; a repeated plain key keeps the last."""
    if key.endswith("[]"):
        params.setdefault(key[:-2], []).append(value)
    else:
        params[key] = value


async def request_params(request: Request) -> dict[str, Any]:
    """Query parameters overlaid by the body (JSON object or form-encoded)."""
    params: dict[str, Any] = {}
    for key, value in request.query_params.multi_items():
        _add(params, key, value)
    body = await request.body()
    if not body.strip():
        return params
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == _FORM:
        for key, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
            _add(params, key, value)
        return params
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidInput("body is not valid JSON", "body") from None
    if not isinstance(data, dict):
        raise InvalidInput("body must be a JSON object", "body")
    params.update(data)
    return params


def describe(error: ValidationError, prefix: str = "") -> tuple[str, str]:
    """GitLab's wording for the first bad parameter: (`name is missing`, `name`)."""
    parts: list[str] = []
    first_field = ""
    for item in error.errors():
        field = prefix + ".".join(
            f"[{p}]" if isinstance(p, int) else str(p) for p in item["loc"]
        ).replace(".[", "[")
        first_field = first_field or field
        if item["type"] == "missing":
            parts.append(f"{field} is missing")
        elif item["type"] == "extra_forbidden":
            parts.append(f"{field} is not a known field")
        else:
            parts.append(f"{field} is invalid ({item['msg']})")
    return ", ".join(parts), first_field


def parse(model: type[M], params: dict[str, Any]) -> M:
    """Validate parameters against a model; a bad one is a 400 naming the field."""
    try:
        return model.model_validate(params)
    except ValidationError as error:
        message, field = describe(error)
        raise InvalidInput(message, field) from None


def ref(raw: str) -> str | int:
    """A `:id` path parameter: a numeric id, or a full path whose `/` came URL-encoded."""
    value = unquote(raw)
    return int(value) if value.isdigit() else value
