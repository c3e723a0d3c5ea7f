"""Request parameters as GitLab reads them: query string, JSON body or form body, merged."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import parse_qsl, unquote

import orjson
from fastapi import Request
from pydantic import BaseModel, Field, ValidationError
from starlette.convertors import Convertor, register_url_convertor

from auditwire.errors import InvalidInput

M = TypeVar("M", bound=BaseModel)

MAX_ID = 2**63 - 1  # ids are 64-bit integers on every backend
NO_ID = 0  # ids start at 1: an id too large to store matches nothing, like this one
DbId = Annotated[int, Field(ge=1, le=MAX_ID)]

_FORM = "application/x-www-form-urlencoded"

SourceKind = Literal["groups", "projects"]


class _SourceKindConvertor(Convertor[str]):
    """The first segment of a route that groups and projects share: any other word matches
    no route, so `/things/1/members` is `404 Not Found` as in GitLab, not a bad parameter."""

    regex = "groups|projects"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("source_kind", _SourceKindConvertor())
SOURCE_PATH = "/{kind:source_kind}/{source_id}"  # a group's or a project's routes


def _add(params: dict[str, Any], key: str, value: str) -> None:
    """`scopes[]=a&scopes[]=b` is a list, as Rails reads it; a repeated plain key keeps the last."""
    if key.endswith("[]"):
        params.setdefault(key[:-2], []).append(value)
    else:
        params[key] = value


async def request_params(request: Request) -> dict[str, Any]:
    """Query parameters overlaid by the body (JSON object or form-encoded), NUL-free."""
    return _check_nul(await _read_params(request))


async def _read_params(request: Request) -> dict[str, Any]:
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


def _check_nul(params: dict[str, Any]) -> dict[str, Any]:
    """No stored text may hold NUL (PostgreSQL refuses it): a clear 400, never a storage error."""
    for key, value in params.items():
        values = value if isinstance(value, list) else [value]
        if any(isinstance(v, str) and "\x00" in v for v in values) or "\x00" in key:
            raise InvalidInput(f"{key} must not contain NUL characters", key)
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


def _is_number(value: str) -> bool:
    """ASCII digits only: `str.isdigit` also holds for `¹` or `٣`, which `int()` refuses or
    reads as another number."""
    return value.isascii() and value.isdigit()


def ref(raw: str) -> str | int:
    """A `:id` path parameter: a numeric id, or a full path whose `/` came URL-encoded."""
    value = unquote(raw)
    if not _is_number(value):
        return value
    number = int(value)
    return number if number <= MAX_ID else NO_ID


def numeric_id(raw: str) -> int | None:
    """A path parameter that must be a numeric id (`:user_id`, `:audit_event_id`)."""
    if not _is_number(raw):
        return None
    number = int(raw)
    return number if number <= MAX_ID else None
