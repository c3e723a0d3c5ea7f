"""auditwire's pages in a real browser: sign in, the audit log, and a group's streams."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import orjson
import pytest
from playwright.async_api import Browser, expect

from auditwire.domain.events import format_timestamp, utcnow
from auditwire.services.container import Services
from auditwire.streaming import DeliveryWorker
from tests.e2e.conftest import (
    PAGE_TIMEOUT,
    World,
    expect_no_streams_tab,
    own_csrf_token,
    requests_elsewhere,
    sign_in,
)
from tests.integration.streaming.receivers import Receiver, serve
from tests.live import LiveServer

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])
SCRIPT = "<script>window.pwned=1</script>"


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with serve(Receiver()) as running:
        yield running


async def test_root_streams_events_to_a_destination_added_through_the_form(
    browser: Browser,
    live_server: LiveServer,
    world: World,
    receiver: Receiver,
    worker: DeliveryWorker,
) -> None:
    base = live_server.url
    page = await browser.new_page()
    page.set_default_timeout(PAGE_TIMEOUT)
    outside = requests_elsewhere(page, base)
    await sign_in(page, base, "root")
    await page.get_by_role("link", name="acme").click()
    await page.get_by_role("link", name="Audit events").click()
    await page.get_by_role("tab", name="Streams").click()
    await expect(page.get_by_role("tabpanel", name="Streams")).to_be_visible()
    await page.get_by_text("Add streaming destination").click()
    await page.get_by_role("link", name="HTTP endpoint").click()
    await page.get_by_label("Destination name").fill(f"hook {SCRIPT}")
    await page.get_by_label("Destination URL").fill(receiver.url)
    await page.locator("#header_key_0").fill("X-Team")
    await page.locator("#header_value_0").fill("audit")
    await page.get_by_role("button", name="Add", exact=True).click()

    await expect(page.get_by_role("heading", level=1)).to_have_text(f"hook {SCRIPT}")
    assert await page.evaluate("window.pwned") is None
    token = await page.get_by_role("textbox", name="Verification token").input_value()
    assert len(token) >= 16
    assert page.locator("td", has_text="X-Team")

    # The destination's creation and then its header's are audit events of the group: both
    # flow to the receiver. The first may leave before the form has added the header; the
    # header's own event is recorded once the header exists, so it carries it.
    await receiver.wait_requests(2)
    header_events = [
        received
        for received in receiver.received
        if orjson.loads(received.body)["event_type"] == "audit_events_streaming_headers_create"
    ]
    assert [received.headers.get("X-Team") for received in header_events] == ["audit"]
    await page.reload()
    await expect(page.locator(".badge")).to_have_text("Healthy")

    await page.get_by_role("button", name="Send test event").click()
    await expect(page.get_by_role("status")).to_contain_text("status 200")

    start = utcnow() - timedelta(hours=1)
    await page.get_by_label("Created after (UTC)").fill(start.strftime("%Y-%m-%dT%H:%M:%S"))
    end = utcnow() + timedelta(hours=1)
    await page.get_by_label("Created before (UTC)").fill(end.strftime("%Y-%m-%dT%H:%M:%S"))
    await page.get_by_role("button", name="Replay").click()
    await expect(page.get_by_role("status")).to_contain_text("events queued for delivery again")

    page.once("dialog", lambda dialog: dialog.accept())
    await page.get_by_role("button", name="Delete destination").click()
    await expect(page.get_by_role("status")).to_have_text("Destination deleted")
    await expect(page.get_by_role("tabpanel", name="Streams")).to_contain_text(
        "No streaming destinations yet."
    )
    assert outside == []


async def test_log_filters_and_exports_csv(
    browser: Browser, live_server: LiveServer, world: World, services: Services
) -> None:
    await services.namespaces.update_group(
        world.root, world.group.id, name=None, description=SCRIPT
    )
    base = live_server.url
    page = await browser.new_page()
    page.set_default_timeout(PAGE_TIMEOUT)
    await sign_in(page, base, "root")
    await page.goto(f"{base}/groups/acme/-/audit_events")
    await expect(page.locator("table.log")).to_contain_text(SCRIPT)
    assert await page.evaluate("window.pwned") is None
    await page.get_by_label("Event type").fill("member_created")
    await page.get_by_role("button", name="Filter").click()
    rows = page.locator("table.log tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.first).to_contain_text("member_created")
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Export as CSV").click()
    download = await download_info.value
    text = open(await download.path()).read()  # noqa: ASYNC230, SIM115
    lines = text.strip().splitlines()
    assert lines[0].startswith("ID,Author ID,Author Name")
    assert len(lines) == 3 and all("member_created" in line for line in lines[1:])
    assert format_timestamp(utcnow())[:10] in lines[1]


@pytest.mark.parametrize("username", ["mia", "gus", "nora"])
async def test_others_see_no_streams_and_cannot_change_them(
    browser: Browser,
    live_server: LiveServer,
    world: World,
    services: Services,
    username: str,
) -> None:
    created = await services.destinations.create_group_destination(
        world.root, group_path="acme", destination_url="http://127.0.0.1:9/hook", name="secret hook"
    )
    base = live_server.url
    page = await browser.new_page()
    page.set_default_timeout(PAGE_TIMEOUT)
    await sign_in(page, base, username)
    await expect_no_streams_tab(page, f"{base}/groups/acme/-/audit_events?tab=streams", username)
    assert created.verification_token not in await page.content()
    here = f"{base}/groups/acme/-/audit_events/streams/http/{created.id}"
    shown = await page.goto(here)
    assert shown is not None and shown.status == 404
    assert created.verification_token not in await page.content()
    # A delete posted with this user's own valid CSRF token still changes nothing.
    token = await own_csrf_token(page, base)
    posted = await page.request.post(
        f"{here}/delete", form={"authenticity_token": token}, max_redirects=0
    )
    assert posted.status == 404
    remaining = await services.destinations.group_destinations(world.root, world.group)
    assert remaining is not None and [d.id for d in remaining] == [created.id]


async def test_a_form_without_its_csrf_token_changes_nothing(
    browser: Browser, live_server: LiveServer, world: World, services: Services
) -> None:
    created = await services.destinations.create_group_destination(
        world.root, group_path="acme", destination_url="http://127.0.0.1:9/hook", name="kept"
    )
    base = live_server.url
    page = await browser.new_page()
    await sign_in(page, base, "root")
    here = f"{base}/groups/acme/-/audit_events/streams/http/{created.id}"
    posted = await page.request.post(f"{here}/delete", form={}, max_redirects=0)
    assert posted.status == 422
    remaining = await services.destinations.group_destinations(world.root, world.group)
    assert remaining is not None and [d.id for d in remaining] == [created.id]
