"""A destination's page without a browser: the active toggle, the health badge it shows and
the recent deliveries filtered by outcome."""

from __future__ import annotations

import re

import httpx

from auditwire.domain.delivery_log import AttemptOutcome, AttemptRecord, HealthState
from auditwire.domain.events import utcnow
from auditwire.services.container import Services
from auditwire.store.attempts import insert_attempts
from auditwire.web.render import environment
from tests.conftest import Account
from tests.integration.web.helpers import http_destination_of_acme, root_signed_in_with_acme
from tests.integration.web.test_sign_in import TOKEN_RE

BADGE_RE = re.compile(r'<span class="badge badge-[a-z_]+">([^<]*)</span>')
DELIVERY_RE = re.compile(
    r"<tr><td>(\d+)</td><td><code>[^<]*</code></td><td>[^<]*</td>\s*"
    r"<td>[^<]*</td><td>[^<]*</td>\s*<td>(\w+)"
)
BADGES = {"HEALTHY": "Healthy", "FAILING": "Failing", "CIRCUIT_OPEN": "Circuit open"}


def test_every_health_state_has_the_badge_the_issue_names() -> None:
    macros = environment.get_template("_macros.html").module
    shown = {
        state.name: BADGE_RE.findall(str(macros.health_badge(state.name))) for state in HealthState
    }
    assert shown == {name: [label] for name, label in {**BADGES, "INACTIVE": "Inactive"}.items()}


async def test_the_active_toggle_turns_the_badge_inactive_and_back(
    client: httpx.AsyncClient, root: Account
) -> None:
    await root_signed_in_with_acme(client, root)
    destination_id = await http_destination_of_acme(client, root)
    here = f"/groups/acme/-/audit_events/streams/http/{destination_id}"
    streams = "/groups/acme/-/audit_events?tab=streams"

    async def badges() -> tuple[list[str], list[str]]:
        page = (await client.get(here)).text
        listed = (await client.get(streams)).text
        return BADGE_RE.findall(page), BADGE_RE.findall(listed)

    assert await badges() == (["Healthy"], ["Healthy"])
    for active, badge in (("false", "Inactive"), ("true", "Healthy")):
        token = TOKEN_RE.search((await client.get(here)).text)
        assert token is not None
        toggled = await client.post(
            f"{here}/active", data={"authenticity_token": token.group(1), "active": active}
        )
        assert toggled.status_code == 303
        assert await badges() == ([badge], [badge])


async def test_recent_deliveries_are_filtered_by_outcome(
    client: httpx.AsyncClient, root: Account, services: Services
) -> None:
    await root_signed_in_with_acme(client, root)
    destination_id = await http_destination_of_acme(client, root)
    outcomes = [AttemptOutcome.RETRY, AttemptOutcome.DELIVERED] * 2
    async with services.store.write() as conn:
        await insert_attempts(
            conn,
            [
                AttemptRecord(int(destination_id), 900 + i, "group_updated", utcnow(), 7, o, 200)
                for i, o in enumerate(outcomes)
            ],
        )
    here = f"/groups/acme/-/audit_events/streams/http/{destination_id}"

    async def rows(outcome: str) -> list[tuple[str, str]]:
        page = await client.get(here, params={"outcome": outcome})
        assert page.status_code == 200
        return DELIVERY_RE.findall(page.text)

    assert await rows("") == [
        ("903", "Delivered"),
        ("902", "Retry"),
        ("901", "Delivered"),
        ("900", "Retry"),
    ]
    assert await rows("RETRY") == [("902", "Retry"), ("900", "Retry")]
    assert await rows("DELIVERED") == [("903", "Delivered"), ("901", "Delivered")]
    assert await rows("FAILED") == []
    assert len(await rows("no-such-outcome")) == 4  # an unknown outcome filters nothing
