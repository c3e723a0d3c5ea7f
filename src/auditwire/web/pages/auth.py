"""Signing in and out, and changing one's own password."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from auditwire.errors import NotSaved
from auditwire.services.users import SignInRefused
from auditwire.web.render import redirect, render
from auditwire.web.session import (
    SIGN_IN_PATH,
    check_csrf,
    end_session,
    flash,
    require_actor,
    safe_redirect,
    services_of,
    signed_in,
    start_session,
    take_flash,
)

PASSWORD_PATH = "/-/user_settings/password/edit"
router = APIRouter(include_in_schema=False)


@router.get(SIGN_IN_PATH)
async def sign_in_page(request: Request, redirect_to: str | None = None) -> Response:
    actor = await signed_in(request)
    if actor is not None:
        return redirect(safe_redirect(redirect_to))
    return render(request, "sign_in.html", None, redirect_to=safe_redirect(redirect_to))


@router.post(SIGN_IN_PATH)
async def sign_in(request: Request) -> Response:
    form = await check_csrf(request)
    login, password = form.get("login", ""), form.get("password", "")
    back = safe_redirect(form.get("redirect_to"))
    try:
        user = await services_of(request).users.sign_in(login, password)
    except SignInRefused as refused:
        return render(
            request, "sign_in.html", None, 401, error=refused.message, login=login, redirect_to=back
        )
    start_session(request, user.id)
    return redirect(back)


@router.post("/users/sign_out")
async def sign_out(request: Request) -> Response:
    await check_csrf(request)
    end_session(request)
    return redirect(SIGN_IN_PATH)


@router.get(PASSWORD_PATH)
async def password_page(request: Request) -> Response:
    actor = await require_actor(request)
    errors, notice = take_flash(request)
    return render(request, "password.html", actor, errors=errors, notice=notice)


@router.post(PASSWORD_PATH)
async def change_password(request: Request) -> Response:
    actor = await require_actor(request)
    form = await check_csrf(request)
    try:
        await services_of(request).users.change_own_password(
            actor,
            current=form.get("current_password", ""),
            new=form.get("new_password", ""),
            confirmation=form.get("password_confirmation", ""),
        )
    except NotSaved as error:
        field = next(iter(error.errors or {"new_password": []}))
        field = "new_password" if field == "password" else field
        return render(request, "password.html", actor, 422, errors={field: [error.message]})
    flash(request, {}, "Password was successfully updated.")
    return redirect(PASSWORD_PATH)
