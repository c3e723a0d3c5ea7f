"""The start page (the groups the viewer may see), a group's page, a project's, a user's: the
pages every `web_url` of the REST API points at."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.convertors import Convertor, register_url_convertor

from auditwire.errors import NotFound
from auditwire.web.render import PageNotFound, render
from auditwire.web.session import require_actor, services_of

LIST_LIMIT = 100  # groups or projects shown on one page


class PagePathConvertor(Convertor[str]):
    """A project's or user's path: never one of the APIs' or operations' paths, so that
    those keep their own 404 and 405 answers."""

    regex = r"(?!(?:api|-|admin|users|groups)(?:/|$))[^/].*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("page_path", PagePathConvertor())

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(request: Request) -> Response:
    actor = await require_actor(request)
    groups, total = await services_of(request).namespaces.list_groups(
        actor, offset=0, limit=LIST_LIMIT
    )
    return render(request, "home.html", actor, groups=groups, total=total)


@router.get("/groups/{full_path:path}")
async def group_page(request: Request, full_path: str) -> Response:
    actor = await require_actor(request)
    svc = services_of(request)
    try:
        group, _ = await svc.namespaces.group(actor, full_path)
    except NotFound:
        raise PageNotFound() from None
    subgroups, _ = await svc.namespaces.list_groups(actor, parent=group, offset=0, limit=LIST_LIMIT)
    projects, _ = await svc.namespaces.list_projects(actor, under=group, offset=0, limit=LIST_LIMIT)
    direct = [p for p in projects if p.namespace_id == group.id]
    return render(request, "group.html", actor, group=group, subgroups=subgroups, projects=direct)


async def project_or_user_page(request: Request, full_path: str) -> Response:
    """`/<namespace>/<project>` or `/<username>`, as GitLab's web URLs are."""
    actor = await require_actor(request)
    svc = services_of(request)
    if "/" in full_path:
        try:
            project, _ = await svc.namespaces.project(actor, full_path)
        except NotFound:
            raise PageNotFound() from None
        if project.full_path.lower() != full_path.lower():
            raise PageNotFound()
        return render(request, "project.html", actor, project=project)
    try:
        user = await svc.users.get_by_username(full_path)
    except NotFound:
        raise PageNotFound() from None
    return render(request, "user.html", actor, user=user)


def install_catch_all(router_: APIRouter) -> None:
    """Added last: every other route matches first."""
    router_.add_api_route("/{full_path:page_path}", project_or_user_page, methods=["GET"])
