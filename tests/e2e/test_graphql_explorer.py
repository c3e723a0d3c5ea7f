"""The GraphQL explorer in a real browser: headless Chromium driven by Playwright."""

from __future__ import annotations

import orjson
import pytest
from playwright.async_api import Browser, Page

from tests.conftest import Account
from tests.e2e.conftest import PAGE_TIMEOUT, requests_elsewhere
from tests.live import LiveServer

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


async def _set_editor(page: Page, label: str, text: str) -> None:
    await page.evaluate(
        """([label, text]) => {
            const editor = Array.from(document.querySelectorAll(".graphiql-editor:not(.hidden)"))
                .find((e) => e.closest(`[aria-label="${label}"]`));
            editor.querySelector(".CodeMirror").CodeMirror.setValue(text);
        }""",
        [label, text],
    )


async def _run_query(page: Page, token: str) -> dict[str, object]:
    await _set_editor(page, "Headers", orjson.dumps({"PRIVATE-TOKEN": token}).decode())
    await _set_editor(page, "Query Editor", "query { currentUser { username } }")
    await page.evaluate(
        """() => document.querySelector(".result-window .CodeMirror").CodeMirror.setValue("")"""
    )
    await page.click(".graphiql-execute-button")
    result = """() => {
        const value = document.querySelector(".result-window .CodeMirror").CodeMirror.getValue();
        return value.trim().startsWith("{") && value;
    }"""
    handle = await page.wait_for_function(result, timeout=PAGE_TIMEOUT)
    parsed: dict[str, object] = orjson.loads(await handle.json_value())
    return parsed


async def test_explorer_runs_a_query_with_the_token_from_its_headers_pane(
    browser: Browser, live_server: LiveServer, root: Account
) -> None:
    page = await browser.new_page()
    requests_outside = requests_elsewhere(page, live_server.url)
    await page.goto(f"{live_server.url}/-/graphql-explorer")
    await page.wait_for_selector(".graphiql-container", timeout=PAGE_TIMEOUT)

    assert await _run_query(page, root.token) == {"data": {"currentUser": {"username": "root"}}}
    refused = await _run_query(page, "awpat-wrong")
    assert "data" not in refused or refused["data"] is None, refused
    assert requests_outside == []
