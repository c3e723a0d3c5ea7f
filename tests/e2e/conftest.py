"""Pages in a real browser: headless Chromium (Debian's) driven by Playwright."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from auditwire.config import Settings
from auditwire.domain.namespaces import AccessLevel, Group
from auditwire.services.container import Services
from auditwire.services.context import Actor
from auditwire.streaming import DeliveryWorker
from tests.databases import postgres_required
from tests.integration.streaming.conftest import FAST

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGE_TIMEOUT = 15_000  # milliseconds
PASSWORD = "a-long-password"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if CHROMIUM is None:
        if postgres_required():  # CI=true: every part of the suite must run
            pytest.fail("CI=true requires Chromium (apt-get install chromium)")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


def requests_elsewhere(page: Page, base_url: str) -> list[str]:
    """The URLs of the page's requests that do not go to `base_url`, as they happen: a page
    that must work without internet access keeps this list empty."""
    elsewhere: list[str] = []
    page.on(
        "request",
        lambda request: None if request.url.startswith(base_url) else elsewhere.append(request.url),
    )
    return elsewhere


@dataclass
class World:
    group: Group
    root: Actor


@pytest.fixture
async def world(services: Services) -> World:
    """root (an administrator) and a group with a maintainer and a guest; one outsider."""
    root_user = await services.users.create_user(
        None, username="root", email="root@example.com", is_admin=True, password=PASSWORD
    )
    root = Actor(root_user)
    group = await services.namespaces.create_group(root, path="acme", name="Acme")
    for username, level in (("mia", AccessLevel.MAINTAINER), ("gus", AccessLevel.GUEST)):
        user = await services.users.create_user(
            None, username=username, email=f"{username}@example.com", password=PASSWORD
        )
        await services.namespaces.add_member(root, group, user_id=user.id, access_level=level)
    await services.users.create_user(
        None, username="nora", email="nora@example.com", password=PASSWORD
    )
    return World(group, root)


@pytest.fixture
async def worker(settings: Settings, services: Services) -> AsyncIterator[DeliveryWorker]:
    delivery = DeliveryWorker(settings.model_copy(update=FAST), services.store, services.box)
    await delivery.start()
    yield delivery
    await delivery.stop()


async def sign_in(page: Page, base: str, username: str) -> None:
    await page.goto(f"{base}/users/sign_in")
    await page.get_by_label("Username or primary email").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{base}/", timeout=PAGE_TIMEOUT)


async def signed_in(browser: Browser, base: str, username: str = "root") -> Page:
    """A new page of `username`, signed in."""
    page = await browser.new_page()
    page.set_default_timeout(PAGE_TIMEOUT)
    await sign_in(page, base, username)
    return page


async def open_form(page: Page, streams_url: str, kind: str) -> None:
    """The "Add streaming destination" form of one kind, opened from the Streams tab."""
    await page.goto(streams_url)
    await page.get_by_text("Add streaming destination").click()
    await page.get_by_role("link", name=kind).click()


async def expect_destinations_hidden(
    page: Page, base: str, destinations: dict[str, int], secrets: tuple[str, ...]
) -> None:
    """Each of acme's destinations (by kind) answers 404 to the page's user, shows none of
    `secrets`, and refuses an update posted with the user's own CSRF token."""
    audit_events = f"{base}/groups/acme/-/audit_events"
    for kind, destination_id in destinations.items():
        here = f"{audit_events}/streams/{kind}/{destination_id}"
        shown = await page.goto(here)
        assert shown is not None and shown.status == 404
        content = await page.content()
        assert not any(secret in content for secret in secrets)
        token = await own_csrf_token(page, base)
        posted = await page.request.post(
            f"{here}/update",
            form={"authenticity_token": token, "name": "taken over"},
            max_redirects=0,
        )
        assert posted.status == 404


async def expect_no_streams_tab(page: Page, url: str, username: str) -> None:
    """Open a group's audit events as `username`: a member sees the log and no Streams tab,
    nora (no member) not even the page."""
    answer = await page.goto(url)
    assert answer is not None
    if username == "nora":
        assert answer.status == 404
    else:
        await expect(page.get_by_role("tab", name="Log")).to_be_visible()
        assert await page.get_by_role("tab", name="Streams").count() == 0


async def own_csrf_token(page: Page, base: str) -> str:
    """The signed-in user's own valid CSRF token, from a form they may use."""
    await page.goto(f"{base}/-/user_settings/password/edit")
    return await page.locator('input[name="authenticity_token"]').first.input_value()
