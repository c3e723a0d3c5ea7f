"""Destinations created at the same moment (several API processes, or one busy one) keep the
rules that hold one at a time: a URL and a name once per group, at most 5 active."""

from __future__ import annotations

import asyncio

from auditwire.domain import destinations as rules
from auditwire.errors import InvalidInput
from auditwire.services.container import Services
from auditwire.services.context import Actor
from tests.integration.graphql.conftest import Acme

ATTEMPTS = 8
URLS = [f"https://siem.example.com/{n}" for n in range(ATTEMPTS)]  # all different
NAMES = [f"siem-{n}" for n in range(ATTEMPTS)]


async def _create_at_once(
    services: Services, acme: Acme, urls: list[str], names: list[str]
) -> list[object]:
    actor = Actor(acme.owner.user)
    return await asyncio.gather(
        *(
            services.destinations.create_group_destination(
                actor, group_path="acme", destination_url=url, name=name
            )
            for url, name in zip(urls, names, strict=True)
        ),
        return_exceptions=True,
    )


def _messages(outcomes: list[object]) -> list[str]:
    return sorted(o.message for o in outcomes if isinstance(o, InvalidInput))


async def test_one_url_created_at_once_is_taken_by_exactly_one(
    services: Services, acme: Acme
) -> None:
    url = "https://siem.example.com/same"
    outcomes = await _create_at_once(services, acme, [url] * ATTEMPTS, NAMES)
    assert _messages(outcomes) == [rules.URL_TAKEN] * (ATTEMPTS - 1), outcomes
    listed = await services.destinations.group_destinations(Actor(acme.owner.user), acme.group)
    assert listed is not None
    assert [d.destination_url for d in listed].count(url) == 1


async def test_one_name_created_at_once_is_taken_by_exactly_one(
    services: Services, acme: Acme
) -> None:
    outcomes = await _create_at_once(services, acme, URLS, ["twin"] * ATTEMPTS)
    assert _messages(outcomes) == [rules.NAME_TAKEN] * (ATTEMPTS - 1), outcomes


async def test_the_active_limit_holds_when_destinations_are_created_at_once(
    services: Services, acme: Acme
) -> None:
    # acme has one destination already: room for 4 more.
    outcomes = await _create_at_once(services, acme, URLS, NAMES)
    room = rules.MAX_ACTIVE_DESTINATIONS - 1
    assert _messages(outcomes) == [rules.TOO_MANY_DESTINATIONS] * (ATTEMPTS - room), outcomes
    listed = await services.destinations.group_destinations(Actor(acme.owner.user), acme.group)
    assert listed is not None
    assert len(listed) == rules.MAX_ACTIVE_DESTINATIONS
