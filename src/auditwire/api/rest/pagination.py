"""GitLab's offset pagination: `page`, `per_page`, and the X-* and Link headers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import Query, Request, Response

from auditwire.domain.paging import MAX_PAGE

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100


@dataclass(frozen=True, slots=True)
class PageParams:
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


async def page_params(
    page: int = Query(1, ge=1, le=MAX_PAGE), per_page: int = Query(DEFAULT_PER_PAGE, ge=1)
) -> PageParams:
    """GitLab caps `per_page` at 100 rather than refusing larger values."""
    return PageParams(page=page, per_page=min(per_page, MAX_PER_PAGE))


def set_page_headers(request: Request, response: Response, params: PageParams, total: int) -> None:
    total_pages = max(1, -(-total // params.per_page))
    next_page = params.page + 1 if params.page < total_pages else None
    prev_page = params.page - 1 if params.page > 1 else None
    response.headers["X-Total"] = str(total)
    response.headers["X-Total-Pages"] = str(total_pages)
    response.headers["X-Page"] = str(params.page)
    response.headers["X-Per-Page"] = str(params.per_page)
    response.headers["X-Next-Page"] = str(next_page or "")
    response.headers["X-Prev-Page"] = str(prev_page or "")

    def link(page: int, rel: str) -> str:
        query = dict(request.query_params)
        query.update(page=str(page), per_page=str(params.per_page))
        url = request.url.replace(query=urlencode(query))
        return f'<{url}>; rel="{rel}"'

    links = []
    if prev_page:
        links.append(link(prev_page, "prev"))
    if next_page:
        links.append(link(next_page, "next"))
    links.append(link(1, "first"))
    links.append(link(total_pages, "last"))
    response.headers["Link"] = ", ".join(links)


def page_response(request: Request, params: PageParams, items: list[Any], total: int) -> Response:
    """One page of `items` as GitLab answers it: a JSON array with the pagination headers."""
    response = Response(orjson.dumps(items), media_type="application/json")
    set_page_headers(request, response, params, total)
    return response
