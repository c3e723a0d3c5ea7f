"""The audit log page reads its filters from the address: whatever is typed there is answered."""

from __future__ import annotations

import httpx

from tests.conftest import Account
from tests.integration.web.helpers import root_signed_in_with_acme


async def test_a_page_number_past_any_offset_shows_an_empty_page(
    client: httpx.AsyncClient, root: Account
) -> None:
    await root_signed_in_with_acme(client, root)
    for path in ("/groups/acme/-/audit_events", "/admin/audit_logs"):
        for page in ("99999999999999999999", "9" * 400, "abc", "-3"):
            shown = await client.get(path, params={"page": page})
            assert shown.status_code == 200, (path, page)
        past = await client.get(path, params={"page": "99999999999999999999"})
        assert "group_created" not in past.text
        first = await client.get(path, params={"page": "-3"})
        assert "group_created" in first.text
