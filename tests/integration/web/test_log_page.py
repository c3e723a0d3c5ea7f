"""The audit log page reads its filters from the address: whatever is typed there is answered."""

from __future__ import annotations

import re

import httpx

from tests.conftest import Account, MakeAccount
from tests.integration.api.conftest import API
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


INGEST = f"{API}/audit_events"
EVENT = {
    "event_type": "deploy_started",
    "entity_type": "Group",
    "entity_path": "acme",
    "author": {"id": 1, "name": "root"},
}
ROW_RE = re.compile(r'<tr>\s*<td><time datetime="([^"]+)">')


async def test_the_log_is_paged_newest_first_and_filtered_by_dates_and_author(
    client: httpx.AsyncClient, root: Account, make_account: MakeAccount
) -> None:
    await root_signed_in_with_acme(client, root)
    old = [{**EVENT, "created_at": f"2020-01-01T0{n}:00:00Z"} for n in range(2)]
    sent = await client.post(INGEST, headers=root.headers, json=old + [EVENT] * 23)
    assert sent.status_code == 201, sent.text
    log = "/groups/acme/-/audit_events"

    async def times(**params: str) -> list[str]:
        page = await client.get(log, params=params)
        assert page.status_code == 200
        return ROW_RE.findall(page.text)

    first, second = await times(), await times(page="2")
    assert len(first) == 20 and len(second) == 6  # with the group's own group_created
    # Newest recorded first, as GitLab lists them: the group's own creation comes last, after
    # the two events the batch dated 2020.
    backdated = ["2020-01-01T01:00:00.000Z", "2020-01-01T00:00:00.000Z"]
    assert second[-3:-1] == backdated and second[-1] < first[0]
    assert await times(created_after="2020-01-01", created_before="2020-01-01") == backdated
    assert len(await times(created_after="2021-01-01")) == 20
    assert len(await times(author="root")) == 20
    other = await make_account("ada")
    assert await times(author=other.user.username) == []
    assert await times(author="nobody-at-all") == []
    refused = await client.get(log, params={"created_after": "2020-13-45"})
    assert refused.status_code == 200 and "2020-13-45 is not a valid date" in refused.text
