"""The REST API's page (Swagger UI) in a real browser, with nothing loaded from elsewhere."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser

from tests.e2e.conftest import PAGE_TIMEOUT, requests_elsewhere
from tests.live import LiveServer

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


async def test_api_docs_page_shows_the_routes_from_local_assets(
    browser: Browser, live_server: LiveServer
) -> None:
    page = await browser.new_page()
    outside = requests_elsewhere(page, live_server.url)
    await page.goto(f"{live_server.url}/-/api-docs")

    ingestion = page.locator("#operations-default-ingest_events")
    await ingestion.wait_for(timeout=PAGE_TIMEOUT)
    assert "Record audit events" in await ingestion.inner_text()
    await ingestion.locator(".opblock-summary").click()
    await page.get_by_text("Idempotency-Key").first.wait_for(timeout=PAGE_TIMEOUT)
    listing = page.locator(".opblock-get .opblock-summary-path", has_text="/api/v4/audit_events")
    assert await listing.count() >= 1
    assert outside == []
