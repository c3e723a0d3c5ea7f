"""A destination's page without a browser: the active toggle and the health badge it shows."""

from __future__ import annotations

import re

import httpx

from auditwire.domain.delivery_log import HealthState
from auditwire.web.render import environment
from tests.conftest import Account
from tests.integration.web.helpers import http_destination_of_acme, root_signed_in_with_acme
from tests.integration.web.test_sign_in import TOKEN_RE

BADGE_RE = re.compile(r'<span class="badge badge-[a-z_]+">([^<]*)</span>')
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
