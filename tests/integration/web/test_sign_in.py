"""Signing in through the page: the cookie, CSRF, throttling, and passwords set by the API."""

from __future__ import annotations

import re

import httpx

from auditwire.services.container import Services
from auditwire.services.users import SIGN_IN_MAX_FAILURES, SIGN_IN_THROTTLED
from tests.conftest import Account

TOKEN_RE = re.compile(r'name="authenticity_token" value="([^"]+)"')


async def _token(client: httpx.AsyncClient, path: str = "/users/sign_in") -> str:
    page = await client.get(path)
    found = TOKEN_RE.search(page.text)
    assert found, page.text
    return found.group(1)


async def _sign_in(client: httpx.AsyncClient, login: str, password: str) -> httpx.Response:
    token = await _token(client)
    return await client.post(
        "/users/sign_in",
        data={"authenticity_token": token, "login": login, "password": password},
    )


async def test_password_set_by_api_signs_in_with_a_safe_cookie(
    client: httpx.AsyncClient, root: Account
) -> None:
    short = await client.post(
        "/api/v4/users",
        headers=root.headers,
        data={"username": "ada", "email": "ada@example.com", "password": "short"},
    )
    assert short.status_code == 400
    assert short.json() == {"message": {"password": ["is too short (minimum is 8 characters)"]}}
    made = await client.post(
        "/api/v4/users",
        headers=root.headers,
        data={"username": "ada", "email": "ada@example.com", "password": "first-password"},
    )
    changed = await client.put(
        f"/api/v4/users/{made.json()['id']}",
        headers=root.headers,
        data={"password": "second-password"},
    )
    assert changed.status_code == 200

    assert (await _sign_in(client, "ada", "first-password")).status_code == 401
    signed = await _sign_in(client, "ADA@example.com", "second-password")
    assert signed.status_code == 303
    cookie = signed.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    home = await client.get("/")
    assert home.status_code == 200 and "@ada" in home.text
    assert "script-src 'self'" in home.headers["content-security-policy"]


async def test_cookie_is_secure_over_https(services: Services, client: httpx.AsyncClient) -> None:
    await services.users.create_user(
        None, username="bob", email="bob@example.com", password="bob-password"
    )
    client.base_url = httpx.URL("https://auditwire.test")
    signed = await _sign_in(client, "bob", "bob-password")
    assert "secure" in signed.headers["set-cookie"].lower()


async def test_sign_in_without_csrf_token_is_refused(
    services: Services, client: httpx.AsyncClient
) -> None:
    await services.users.create_user(
        None, username="eve", email="eve@example.com", password="eve-password"
    )
    await client.get("/users/sign_in")
    refused = await client.post("/users/sign_in", data={"login": "eve", "password": "eve-password"})
    assert refused.status_code == 422
    assert (await client.get("/")).status_code == 303  # still signed out


async def test_failed_sign_ins_are_throttled_without_saying_what_was_wrong(
    services: Services, client: httpx.AsyncClient
) -> None:
    await services.users.create_user(
        None, username="kim", email="kim@example.com", password="kim-password"
    )
    for _ in range(SIGN_IN_MAX_FAILURES):
        failed = await _sign_in(client, "kim", "wrong-password")
        assert "Invalid login or password." in failed.text
    unknown = await _sign_in(client, "nobody", "wrong-password")
    assert "Invalid login or password." in unknown.text
    throttled = await _sign_in(client, "kim", "kim-password")
    assert throttled.status_code == 401
    assert SIGN_IN_THROTTLED in throttled.text


async def test_user_changes_own_password(services: Services, client: httpx.AsyncClient) -> None:
    await services.users.create_user(
        None, username="lee", email="lee@example.com", password="lee-password"
    )
    await _sign_in(client, "lee", "lee-password")
    path = "/-/user_settings/password/edit"
    token = await _token(client, path)
    wrong = await client.post(
        path,
        data={
            "authenticity_token": token,
            "current_password": "not-it",
            "new_password": "new-password",
            "password_confirmation": "new-password",
        },
    )
    assert "You must provide a valid current password" in wrong.text
    done = await client.post(
        path,
        data={
            "authenticity_token": token,
            "current_password": "lee-password",
            "new_password": "new-password",
            "password_confirmation": "new-password",
        },
    )
    assert done.status_code == 303
    assert (await services.users.sign_in("lee", "new-password")).username == "lee"


async def test_sign_out_needs_its_csrf_token_and_ends_the_session(
    services: Services, client: httpx.AsyncClient
) -> None:
    await services.users.create_user(
        None, username="ray", email="ray@example.com", password="ray-password"
    )
    await _sign_in(client, "ray", "ray-password")
    refused = await client.post("/users/sign_out", data={})
    assert refused.status_code == 422
    assert (await client.get("/")).status_code == 200
    token = await _token(client, "/")
    out = await client.post("/users/sign_out", data={"authenticity_token": token})
    assert out.status_code == 303 and out.headers["location"] == "/users/sign_in"
    after = await client.get("/")
    assert after.status_code in (302, 303) and "/users/sign_in" in after.headers["location"]
