"""AWS S3 and Google Cloud Logging destinations through the pages, against a real S3 API
server (moto_server) and loopback stand-ins for Google's token and logging endpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import orjson
import pytest
from playwright.async_api import Browser, Page, expect

from auditwire.config import Settings
from auditwire.domain.categories import AWS, GCP
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
from tests.integration.streaming.factories import eventually
from tests.integration.streaming.sinks.google import (
    CLIENT_EMAIL,
    Google,
    new_private_key,
    serve_google,
)
from tests.live import LiveServer
from tests.moto import REGION, S3Server

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])
PROJECT = "my-project"


@dataclass(frozen=True)
class ServiceAccount:
    google: Google
    private_key: str  # PEM

    @property
    def key_line(self) -> str:
        """A line from the middle of the PEM: shown anywhere, the key was shown back."""
        lines = self.private_key.splitlines()
        return lines[len(lines) // 2]


@pytest.fixture
async def account() -> AsyncIterator[ServiceAccount]:
    pem, public_key = new_private_key()
    async with serve_google(Google(public_key)) as google:
        yield ServiceAccount(google, pem)


@pytest.fixture
def settings(settings: Settings, s3_server: S3Server, account: ServiceAccount) -> Settings:
    """The server as an operator starts it: Google's endpoints and the S3 store on loopback
    (AUDITWIRE_GCP_TOKEN_URL, AUDITWIRE_GCP_LOGGING_URL, AUDITWIRE_S3_ENDPOINT_URL)."""
    return settings.model_copy(
        update={
            "gcp_token_url": account.google.token_url,
            "gcp_logging_url": account.google.logging_url,
            "s3_endpoint_url": s3_server.url,
        }
    )


async def _fill_s3(page: Page, s3_server: S3Server, bucket: str, name: str) -> None:
    await page.get_by_label("Destination name").fill(name)
    await page.get_by_label("Access Key ID").fill(s3_server.access_key_id)
    await page.get_by_label("Secret Access Key").fill(s3_server.secret_access_key)
    await page.get_by_label("Bucket Name").fill(bucket)
    await page.get_by_label("AWS Region").fill(REGION)


async def _fill_gcp(page: Page, name: str, private_key: str, project: str = PROJECT) -> None:
    await page.get_by_label("Destination name").fill(name)
    await page.get_by_label("Project ID").fill(project)
    await page.get_by_label("Client Email").fill(CLIENT_EMAIL)
    await page.get_by_label("Private key").fill(private_key)


async def test_events_land_in_an_s3_bucket_added_through_the_form(
    browser: Browser,
    live_server: LiveServer,
    world: World,
    s3_server: S3Server,
    bucket: str,
    worker: DeliveryWorker,
) -> None:
    base = live_server.url
    page = await signed_in(browser, base)
    outside = requests_elsewhere(page, base)
    await open_form(page, f"{base}/groups/acme/-/audit_events?tab=streams", "AWS S3")
    await _fill_s3(page, s3_server, bucket, "archive")
    await page.get_by_role("button", name="Add", exact=True).click()

    await expect(page.get_by_role("heading", level=1)).to_have_text("archive")
    await expect(page.get_by_label("Bucket Name")).to_have_value(bucket)
    await expect(page.get_by_label("Secret Access Key")).to_have_value("")
    assert s3_server.secret_access_key not in await page.content()

    # Saved with the secret left empty: the key stays, and the update is an event that lands.
    await page.get_by_label("Destination name").fill("archive bucket")
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.get_by_role("status")).to_have_text("Destination updated")

    async def landed() -> bool:
        return any("amazon_s3_configuration_updated" in k for k in s3_server.keys(bucket))

    await eventually(landed)
    key = next(k for k in s3_server.keys(bucket) if "s3_configuration_updated" in k)
    stored = s3_server.client.get_object(Bucket=bucket, Key=key)
    event = orjson.loads(stored["Body"].read())
    assert event["event_type"] == "amazon_s3_configuration_updated"
    assert event["entity_path"] == "acme"

    await page.reload()
    await expect(page.locator(".badge")).to_have_text("Healthy")
    await expect(page.locator("table.deliveries")).to_contain_text(
        "amazon_s3_configuration_updated"
    )
    await page.get_by_role("button", name="Send test event").click()
    await expect(page.get_by_role("status")).to_contain_text("status 200")
    await page.get_by_role("button", name="Retry failed").click()
    await expect(page.get_by_role("status")).to_have_text("0 failed deliveries queued again")

    await page.get_by_role("link", name="Back to streams").click()
    row = page.locator("table.streams tbody tr", has_text="archive bucket")
    await expect(row).to_contain_text("AWS S3")
    await expect(row).to_contain_text(f"{bucket} ({REGION})")
    await expect(row.locator(".badge")).to_have_text("Healthy")
    assert s3_server.secret_access_key not in await page.content()
    assert outside == []


async def test_a_google_cloud_logging_destination_writes_entries_and_hides_its_key(
    browser: Browser,
    live_server: LiveServer,
    world: World,
    account: ServiceAccount,
    worker: DeliveryWorker,
) -> None:
    base = live_server.url
    page = await signed_in(browser, base)
    await open_form(page, f"{base}/groups/acme/-/audit_events?tab=streams", "Google Cloud Logging")
    await expect(page.get_by_label("Log ID")).to_have_value("audit_events")
    await _fill_gcp(page, "cloud log", account.private_key)
    await page.get_by_role("button", name="Add", exact=True).click()

    await expect(page.get_by_role("heading", level=1)).to_have_text("cloud log")
    await expect(page.get_by_label("Private key")).to_have_value("")
    assert account.key_line not in await page.content()

    await page.get_by_label("Log ID").fill("gitlab/audit")
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.get_by_role("status")).to_have_text("Destination updated")

    async def arrived() -> bool:
        return any(
            entry["jsonPayload"].get("event_type") == "google_cloud_logging_configuration_updated"
            for entry in account.google.entries
        )

    await eventually(arrived)
    assert account.google.refused_grants == []
    await page.get_by_role("button", name="Send test event").click()
    await expect(page.get_by_role("status")).to_contain_text("status 200")

    await page.get_by_role("link", name="Back to streams").click()
    row = page.locator("table.streams tbody tr", has_text="cloud log")
    await expect(row).to_contain_text("Google Cloud Logging")
    await expect(row).to_contain_text(f"{PROJECT} / gitlab/audit")
    assert account.key_line not in await page.content()

    await row.get_by_role("link", name="cloud log").click()
    page.once("dialog", lambda dialog: dialog.accept())
    await page.get_by_role("button", name="Delete destination").click()
    await expect(page.get_by_role("status")).to_have_text("Destination deleted")
    await expect(page.get_by_role("tabpanel", name="Streams")).to_contain_text(
        "No streaming destinations yet."
    )


async def test_each_refusal_appears_beside_its_field_in_gitlabs_words(
    browser: Browser, live_server: LiveServer, world: World, s3_server: S3Server, bucket: str
) -> None:
    base = live_server.url
    page = await signed_in(browser, base)
    streams = f"{base}/groups/acme/-/audit_events?tab=streams"
    await open_form(page, streams, "AWS S3")
    await _fill_s3(page, s3_server, bucket, "archive")
    await page.get_by_label("Access Key ID").fill("short")
    await page.get_by_role("button", name="Add", exact=True).click()
    field = page.get_by_label("Access Key ID")
    await expect(field).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#access_key_xid-errors")).to_have_text(
        "Access key xid is too short (minimum is 16 characters)"
    )
    await expect(page.get_by_label("Bucket Name")).to_have_value(bucket)
    await expect(page.get_by_label("Secret Access Key")).to_have_value("")
    assert s3_server.secret_access_key not in await page.content()

    await _fill_s3(page, s3_server, bucket, "archive")
    await page.get_by_label("AWS Region").fill("moon-1")
    await page.get_by_role("button", name="Add", exact=True).click()
    await expect(page.locator("#aws_region-errors")).to_have_text(
        "AWS region must be a valid region code, for example us-east-1"
    )

    await open_form(page, streams, "Google Cloud Logging")
    await _fill_gcp(page, "bad project", "a key", project="My_Project")
    await page.get_by_role("button", name="Add", exact=True).click()
    await expect(page.locator("#google_project_id_name-errors")).to_have_text(
        "Google project id name must only contain lowercase letters, digits, or hyphens, and "
        "must start with a letter and end with a letter or a digit"
    )
    await expect(page.get_by_label("Private key")).to_have_value("")


async def test_instance_destinations_of_each_kind_are_added_listed_and_deleted(
    browser: Browser,
    live_server: LiveServer,
    world: World,
    s3_server: S3Server,
    account: ServiceAccount,
    bucket: str,
) -> None:
    base = live_server.url
    page = await signed_in(browser, base)
    streams = f"{base}/admin/audit_logs?tab=streams"
    await open_form(page, streams, "AWS S3")
    await _fill_s3(page, s3_server, bucket, "instance archive")
    await page.get_by_role("button", name="Add", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("instance archive")
    await open_form(page, streams, "Google Cloud Logging")
    await _fill_gcp(page, "instance log", account.private_key)
    await page.get_by_role("button", name="Add", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("instance log")
    await expect(page.locator(".badge")).to_be_visible()
    await expect(page.get_by_role("heading", name="Recent deliveries")).to_be_visible()

    await page.goto(streams)
    rows = page.locator("table.streams tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.filter(has_text="instance archive")).to_contain_text(bucket)
    await expect(rows.filter(has_text="instance log")).to_contain_text(f"{PROJECT} / audit_events")
    content = await page.content()
    assert account.key_line not in content and s3_server.secret_access_key not in content

    await rows.get_by_role("link", name="instance archive").click()
    page.once("dialog", lambda dialog: dialog.accept())
    await page.get_by_role("button", name="Delete destination").click()
    await expect(page.get_by_role("status")).to_have_text("Destination deleted")
    await expect(page.locator("table.streams tbody tr")).to_have_count(1)


@pytest.mark.parametrize("username", ["mia", "gus", "nora"])
async def test_others_see_no_s3_or_google_destination_nor_its_secret(
    browser: Browser,
    live_server: LiveServer,
    world: World,
    services: Services,
    s3_server: S3Server,
    account: ServiceAccount,
    username: str,
) -> None:
    owner = await services.destinations.group_owner(world.root, "acme")
    made = {
        "aws": await services.destinations.create(
            world.root,
            owner,
            category=AWS,
            config=s3_server.config("kept-bucket"),
            name="archive",
            secret_token=s3_server.secret_access_key,
        ),
        "gcp": await services.destinations.create(
            world.root,
            owner,
            category=GCP,
            config={"googleProjectIdName": PROJECT, "clientEmail": CLIENT_EMAIL},
            name="cloud log",
            secret_token=account.private_key,
        ),
    }
    secrets = (s3_server.secret_access_key, account.key_line)
    page = await signed_in(browser, live_server.url, username)
    audit_events = f"{live_server.url}/groups/acme/-/audit_events"
    await expect_no_streams_tab(page, f"{audit_events}?tab=streams", username)
    content = await page.content()
    assert not any(secret in content for secret in secrets)
    await expect_destinations_hidden(
        page, live_server.url, {kind: d.id for kind, d in made.items()}, secrets
    )
    remaining = await services.destinations.group_destinations(world.root, world.group)
    assert remaining is not None
    assert sorted(d.name for d in remaining) == ["archive", "cloud log"]


async def test_the_tabs_answer_the_arrow_keys(
    browser: Browser, live_server: LiveServer, world: World
) -> None:
    page = await signed_in(browser, live_server.url)
    await page.goto(f"{live_server.url}/groups/acme/-/audit_events")
    log = page.get_by_role("tab", name="Log")
    streams = page.get_by_role("tab", name="Streams")
    await expect(log).to_have_attribute("aria-selected", "true")
    await log.focus()
    for key, selected, other in (
        ("ArrowRight", streams, log),
        ("ArrowRight", log, streams),
        ("ArrowLeft", streams, log),
        ("Home", log, streams),
        ("End", streams, log),
    ):
        await page.keyboard.press(key)
        await expect(selected).to_be_focused()
        await expect(selected).to_have_attribute("aria-selected", "true")
        await expect(selected).to_have_attribute("tabindex", "0")
        await expect(other).to_have_attribute("aria-selected", "false")
        await expect(other).to_have_attribute("tabindex", "-1")
    await expect(page.get_by_role("tabpanel", name="Streams")).to_be_visible()
    await expect(page.get_by_role("tabpanel", name="Log")).to_be_hidden()
