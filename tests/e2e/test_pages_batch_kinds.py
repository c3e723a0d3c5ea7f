"""Splunk HEC, Datadog and batched HTTP destinations through the pages, against loopback
receivers that behave like HEC and like Datadog's logs intake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

import orjson
import pytest
from aiohttp import web
from playwright.async_api import Browser, Page, expect

from auditwire.domain.categories import DATADOG, SPLUNK
from auditwire.domain.events import utcnow
from auditwire.services.container import Services
from auditwire.streaming import DeliveryWorker
from tests.e2e.conftest import (
    World,
    expect_destinations_hidden,
    expect_no_streams_tab,
    open_form,
    requests_elsewhere,
    signed_in,
)
from tests.integration.streaming.factories import eventually, group_event, record
from tests.integration.streaming.sinks.receivers import (
    Hec,
    Intake,
    serve,
    serve_hec,
    serve_intake,
    stacked,
)
from tests.live import LiveServer

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])
HEC_TOKEN = "11111111-2222-3333-4444-555555555555"
API_KEY = "0123456789abcdef0123456789abcdef"
STREAMS = "/groups/acme/-/audit_events?tab=streams"
WINDOW_FORMAT = "%Y-%m-%dT%H:%M:%S"  # a datetime-local field's value
BURST = 5  # events recorded in one transaction: claimed, and sent, together


@pytest.fixture
async def hec() -> AsyncIterator[Hec]:
    async with serve_hec(Hec(HEC_TOKEN)) as running:
        yield running


@pytest.fixture
async def intake() -> AsyncIterator[Intake]:
    async with serve_intake(Intake(API_KEY)) as running:
        yield running


@dataclass
class Bodies:
    """Every request body an HTTP endpoint received, answered 200."""

    url: str = ""
    bodies: list[bytes] = field(default_factory=list)

    async def post(self, request: web.Request) -> web.Response:
        self.bodies.append(await request.read())
        return web.Response(text="ok")


@pytest.fixture
async def bodies() -> AsyncIterator[Bodies]:
    collected = Bodies()
    async with serve([("/hook", collected.post)]) as url:
        collected.url = f"{url}/hook"
        yield collected


async def _add(page: Page) -> None:
    await page.get_by_role("button", name="Add", exact=True).click()


async def _burst(services: Services, world: World) -> set[int]:
    events = [group_event(world.group.id, "acme") for _ in range(BURST)]
    return set(await record(services, events))


def _hec_ids(hec: Hec) -> set[int]:
    return {envelope["event"]["id"] for envelope in hec.envelopes}


async def test_a_splunk_destination_added_through_the_form_receives_stacked_batches(
    browser: Browser,
    live_server: LiveServer,
    world: World,
    services: Services,
    hec: Hec,
    worker: DeliveryWorker,
) -> None:
    sizes: list[int] = []
    authorizations: set[str | None] = set()

    async def count(request: web.Request) -> None:
        sizes.append(len(stacked(await request.read())))
        authorizations.add(request.headers.get("Authorization"))

    hec.on_event = count
    base = live_server.url
    page = await signed_in(browser, base)
    outside = requests_elsewhere(page, base)
    await open_form(page, base + STREAMS, "Splunk HTTP Event Collector")
    await expect(page.get_by_label("Source type")).to_have_attribute("placeholder", "gitlab:audit")
    await page.get_by_label("Destination name").fill("splunk")
    await page.get_by_label("HEC URL").fill(hec.url)
    await page.get_by_label("HEC token").fill(HEC_TOKEN)
    await page.get_by_label("Index", exact=True).fill("gitlab_audit")
    await page.get_by_label("Max events per request").fill("100")
    await page.get_by_label("Max wait (ms)").fill("300")
    await _add(page)

    await expect(page.get_by_role("heading", level=1)).to_have_text("splunk")
    await expect(page.get_by_label("HEC URL")).to_have_value(hec.url)
    await expect(page.get_by_label("Index", exact=True)).to_have_value("gitlab_audit")
    await expect(page.get_by_label("Max events per request")).to_have_value("100")
    await expect(page.get_by_label("HEC token")).to_have_value("")
    assert HEC_TOKEN not in await page.content()

    burst = await _burst(services, world)

    async def arrived() -> bool:
        return burst <= _hec_ids(hec)

    await eventually(arrived)
    assert max(sizes) > 1  # stacked envelopes, many to a request
    assert authorizations == {f"Splunk {HEC_TOKEN}"}
    assert {e["index"] for e in hec.envelopes} == {"gitlab_audit"}
    assert {e["sourcetype"] for e in hec.envelopes} == {"gitlab:audit"}

    await page.reload()
    await expect(page.locator(".badge")).to_have_text("Healthy")
    batch = max(sizes)
    await expect(page.locator("table.deliveries")).to_contain_text(f"({batch} events)")
    await page.get_by_role("button", name="Send test event").click()
    await expect(page.get_by_role("status")).to_contain_text("status 200")

    # Saved with the token left empty: it stays, and a test event carries the new source.
    await page.get_by_label("Source", exact=True).fill("auditwire")
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.get_by_role("status")).to_have_text("Destination updated")
    await expect(page.get_by_label("Source", exact=True)).to_have_value("auditwire")
    await page.get_by_role("button", name="Send test event").click()
    await expect(page.get_by_role("status")).to_contain_text("status 200")
    assert any(e.get("source") == "auditwire" for e in hec.envelopes)
    assert authorizations == {f"Splunk {HEC_TOKEN}"}

    await page.get_by_role("link", name="Back to streams").click()
    row = page.locator("table.streams tbody tr", has_text="splunk")
    await expect(row).to_contain_text("Splunk HTTP Event Collector")
    await expect(row).to_contain_text(hec.url)
    await expect(row.locator(".badge")).to_have_text("Healthy")
    assert HEC_TOKEN not in await page.content()
    assert outside == []


async def test_a_datadog_destination_posts_gzipped_arrays_with_its_api_key(
    browser: Browser,
    live_server: LiveServer,
    world: World,
    services: Services,
    intake: Intake,
    worker: DeliveryWorker,
) -> None:
    base = live_server.url
    page = await signed_in(browser, base)
    await open_form(page, base + STREAMS, "Datadog")
    await expect(page.get_by_label("Source", exact=True)).to_have_attribute("placeholder", "gitlab")
    await page.get_by_label("Destination name").fill("datadog")
    await page.get_by_label("Intake URL").fill(intake.url)
    await page.get_by_label("API key").fill(API_KEY)
    await page.get_by_label("Service").fill("gitlab")
    await page.get_by_label("Tags").fill("env:test")
    await _add(page)

    await expect(page.get_by_role("heading", level=1)).to_have_text("datadog")
    await expect(page.get_by_label("Intake URL")).to_have_value(intake.url)
    await expect(page.get_by_label("API key")).to_have_value("")
    assert API_KEY not in await page.content()

    burst = await _burst(services, world)

    async def arrived() -> bool:
        return burst <= {int(orjson.loads(log["message"])["id"]) for log in intake.logs}

    await eventually(arrived)
    assert intake.requests < len(intake.logs)  # arrays of many logs
    assert {(log["service"], log["ddtags"]) for log in intake.logs} == {("gitlab", "env:test")}

    await page.reload()
    await expect(page.locator(".badge")).to_have_text("Healthy")
    await page.get_by_role("button", name="Send test event").click()
    await expect(page.get_by_role("status")).to_contain_text("status 202")
    await page.get_by_role("button", name="Retry failed").click()
    await expect(page.get_by_role("status")).to_have_text("0 failed deliveries queued again")

    # A replayed window arrives again, in arrays as well.
    window = (utcnow() - timedelta(hours=1), utcnow() + timedelta(hours=1))
    await page.get_by_label("Created after (UTC)").fill(window[0].strftime(WINDOW_FORMAT))
    await page.get_by_label("Created before (UTC)").fill(window[1].strftime(WINDOW_FORMAT))
    await page.get_by_role("button", name="Replay").click()
    await expect(page.get_by_role("status")).to_contain_text("events queued for delivery again")

    async def replayed() -> bool:
        ids = [int(orjson.loads(log["message"])["id"]) for log in intake.logs]
        return all(ids.count(event_id) >= 2 for event_id in burst)

    await eventually(replayed)

    await page.get_by_role("link", name="Back to streams").click()
    row = page.locator("table.streams tbody tr", has_text="datadog")
    await expect(row).to_contain_text("Datadog")
    await expect(row).to_contain_text(intake.url)
    assert API_KEY not in await page.content()


async def test_an_http_destination_sends_ndjson_batches_once_its_format_is_chosen(
    browser: Browser,
    live_server: LiveServer,
    world: World,
    services: Services,
    bodies: Bodies,
    worker: DeliveryWorker,
) -> None:
    base = live_server.url
    page = await signed_in(browser, base)
    await open_form(page, base + STREAMS, "HTTP endpoint")
    batching = page.get_by_role("group", name="Batching")
    await expect(batching).to_be_hidden()  # one event per request: nothing to batch
    await page.get_by_label("Destination name").fill("lake")
    await page.get_by_label("Destination URL").fill(bodies.url)
    await page.get_by_label("Format").select_option(label="NDJSON")
    await expect(batching).to_be_visible()
    await page.get_by_label("Max events per request").fill("50")
    await page.locator("#header_key_0").fill("X-Team")
    await page.locator("#header_value_0").fill("audit")
    await _add(page)

    await expect(page.get_by_role("heading", level=1)).to_have_text("lake")
    await expect(page.get_by_role("status")).to_have_text("Destination added")
    await expect(page.get_by_label("Format")).to_have_value("ndjson")
    await expect(page.get_by_label("Max events per request")).to_have_value("50")
    await expect(page.locator("td", has_text="X-Team")).to_be_visible()

    burst = await _burst(services, world)

    def lines() -> list[dict[str, object]]:
        return [orjson.loads(line) for body in bodies.bodies for line in body.splitlines()]

    async def arrived() -> bool:
        return burst <= {int(str(event["id"])) for event in lines()}

    await eventually(arrived)
    assert any(len(body.splitlines()) > 1 for body in bodies.bodies)

    # Back to one event per request; the header stays.
    await page.get_by_label("Format").select_option(label="One event per request (GitLab)")
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.get_by_role("status")).to_have_text("Destination updated")
    await expect(page.get_by_label("Format")).to_have_value("event")
    await expect(page.locator("td", has_text="X-Team")).to_be_visible()
    destination = (await services.destinations.group_destinations(world.root, world.group))[0]
    assert "format" not in destination.config and "batch" not in destination.config


async def test_each_refusal_of_a_batch_kind_appears_beside_its_field(
    browser: Browser, live_server: LiveServer, world: World, services: Services, hec: Hec
) -> None:
    base = live_server.url
    page = await signed_in(browser, base)
    await open_form(page, base + STREAMS, "Splunk HTTP Event Collector")
    await page.get_by_label("Destination name").fill("splunk")
    await page.get_by_label("HEC URL").fill(hec.url)
    await page.get_by_label("HEC token").fill(HEC_TOKEN)
    await page.get_by_label("Max events per request").fill("5000")
    await _add(page)
    await expect(page.get_by_label("Max events per request")).to_have_attribute(
        "aria-invalid", "true"
    )
    await expect(page.locator("#batch_max_events-errors")).to_have_text(
        "Config batch.maxEvents must be less than or equal to 1000"
    )
    await expect(page.get_by_label("HEC URL")).to_have_value(hec.url)
    await expect(page.get_by_label("HEC token")).to_have_value("")
    assert HEC_TOKEN not in await page.content()

    await page.get_by_label("Max events per request").fill("")
    await page.get_by_label("HEC token").fill("with spaces")
    await _add(page)
    await expect(page.locator("#secret_token-errors")).to_have_text(
        "Secret token must not contain spaces, line breaks or NUL"
    )

    await open_form(page, base + STREAMS, "Datadog")
    await page.get_by_label("Site").fill("datadoghq.eu")
    await page.get_by_label("Intake URL").fill("https://intake.example/api/v2/logs")
    await page.get_by_label("API key").fill(API_KEY)
    await _add(page)
    await expect(page.locator("#site-errors")).to_have_text("Config takes site or url, not both")
    assert API_KEY not in await page.content()

    await open_form(page, base + STREAMS, "HTTP endpoint")
    await page.get_by_label("Destination URL").fill(hec.url)
    await page.get_by_label("Format").select_option(label="JSON array")
    await page.get_by_label("Max wait (ms)").fill("soon")
    await _add(page)
    await expect(page.locator("#batch_max_wait_ms-errors")).to_have_text(
        "Config batch.maxWaitMs must be of type integer"
    )
    await expect(page.get_by_label("Format")).to_have_value("json_array")
    assert await services.destinations.group_destinations(world.root, world.group) == []


async def test_an_instance_splunk_destination_is_added_listed_and_deleted(
    browser: Browser, live_server: LiveServer, world: World, hec: Hec
) -> None:
    base = live_server.url
    page = await signed_in(browser, base)
    streams = f"{base}/admin/audit_logs?tab=streams"
    await open_form(page, streams, "Splunk HTTP Event Collector")
    await page.get_by_label("Destination name").fill("instance splunk")
    await page.get_by_label("HEC URL").fill(hec.url)
    await page.get_by_label("HEC token").fill(HEC_TOKEN)
    await page.get_by_label("Indexer acknowledgement").check()
    await _add(page)
    await expect(page.get_by_role("heading", level=1)).to_have_text("instance splunk")
    await expect(page.get_by_label("Indexer acknowledgement")).to_be_checked()
    await page.get_by_label("Max events per request").fill("5000")
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.locator("#batch_max_events-errors")).to_have_text(
        "Config batch.maxEvents must be less than or equal to 1000"
    )
    await expect(page.get_by_label("Max events per request")).to_have_value("")
    await expect(page.get_by_role("heading", name="Recent deliveries")).to_be_visible()

    await page.goto(streams)
    row = page.locator("table.streams tbody tr", has_text="instance splunk")
    await expect(row).to_contain_text(hec.url)
    assert HEC_TOKEN not in await page.content()
    await row.get_by_role("link", name="instance splunk").click()
    page.once("dialog", lambda dialog: dialog.accept())
    await page.get_by_role("button", name="Delete destination").click()
    await expect(page.get_by_role("status")).to_have_text("Destination deleted")
    await expect(page.locator("table.streams tbody tr")).to_have_count(0)


@pytest.mark.parametrize("username", ["mia", "gus", "nora"])
async def test_others_see_no_splunk_or_datadog_destination_nor_its_secret(
    browser: Browser, live_server: LiveServer, world: World, services: Services, username: str
) -> None:
    owner = await services.destinations.group_owner(world.root, "acme")
    made = {
        "splunk": await services.destinations.create(
            world.root,
            owner,
            category=SPLUNK,
            config={"url": "https://splunk.example:8088"},
            name="splunk",
            secret_token=HEC_TOKEN,
        ),
        "datadog": await services.destinations.create(
            world.root,
            owner,
            category=DATADOG,
            config={"site": "datadoghq.eu"},
            name="datadog",
            secret_token=API_KEY,
        ),
    }
    page = await signed_in(browser, live_server.url, username)
    audit_events = f"{live_server.url}/groups/acme/-/audit_events"
    await expect_no_streams_tab(page, f"{audit_events}?tab=streams", username)
    content = await page.content()
    assert HEC_TOKEN not in content and API_KEY not in content
    await expect_destinations_hidden(
        page, live_server.url, {kind: d.id for kind, d in made.items()}, (HEC_TOKEN, API_KEY)
    )
    remaining = await services.destinations.group_destinations(world.root, world.group)
    assert remaining is not None
    assert sorted((d.name, dict(d.config)) for d in remaining) == [
        ("datadog", {"site": "datadoghq.eu"}),
        ("splunk", {"url": "https://splunk.example:8088"}),
    ]
