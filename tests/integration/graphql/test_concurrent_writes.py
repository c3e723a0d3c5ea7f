"""Destinations, headers and filters written at the same moment (several API processes, or one
busy one) keep the rules that hold one at a time: a URL and a name once per group, at most 5
active destinations; a header key, an event type once per destination, at most 20 headers,
one namespace filter."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from auditwire.domain import destinations as rules
from auditwire.domain.owner import OwnerKind
from auditwire.errors import InvalidInput
from auditwire.services.container import Services
from auditwire.services.context import Actor
from tests.integration.graphql.conftest import Acme

ATTEMPTS = 8
URLS = [f"https://siem.example.com/{n}" for n in range(ATTEMPTS)]  # all different
NAMES = [f"siem-{n}" for n in range(ATTEMPTS)]


async def _at_once(calls: list[Awaitable[object]]) -> list[object]:
    return await asyncio.gather(*calls, return_exceptions=True)


async def _create_at_once(
    services: Services, acme: Acme, urls: list[str], names: list[str]
) -> list[object]:
    actor = Actor(acme.owner.user)
    return await _at_once(
        [
            services.destinations.create_group_destination(
                actor, group_path="acme", destination_url=url, name=name
            )
            for url, name in zip(urls, names, strict=True)
        ]
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


async def test_one_header_key_added_at_once_is_taken_by_exactly_one(
    services: Services, acme: Acme
) -> None:
    actor, svc = Actor(acme.owner.user), services.destinations
    outcomes = await _at_once(
        [
            svc.create_header(
                actor, acme.destination.id, kind=OwnerKind.GROUP, key="X-Env", value=v
            )
            for v in NAMES
        ]
    )
    assert _messages(outcomes) == [rules.HEADER_KEY_TAKEN] * (ATTEMPTS - 1), outcomes


async def test_the_header_limit_holds_when_headers_are_added_at_once(
    services: Services, acme: Acme
) -> None:
    actor, svc = Actor(acme.owner.user), services.destinations
    extra = 4
    outcomes = await _at_once(
        [
            svc.create_header(
                actor, acme.destination.id, kind=OwnerKind.GROUP, key=f"X-{n}", value="v"
            )
            for n in range(rules.MAX_HEADERS + extra)
        ]
    )
    assert _messages(outcomes) == [rules.TOO_MANY_HEADERS] * extra, outcomes


async def test_one_event_type_filter_added_at_once_is_taken_by_exactly_one(
    services: Services, acme: Acme
) -> None:
    actor, svc = Actor(acme.owner.user), services.destinations
    outcomes = await _at_once(
        [
            svc.add_event_types(actor, acme.destination.id, ["user_created"], kind=OwnerKind.GROUP)
            for _ in range(ATTEMPTS)
        ]
    )
    assert _messages(outcomes) == [rules.EVENT_TYPE_TAKEN] * (ATTEMPTS - 1), outcomes


async def test_one_namespace_filter_added_at_once_is_taken_by_exactly_one(
    services: Services, acme: Acme
) -> None:
    actor, svc = Actor(acme.owner.user), services.destinations
    outcomes = await _at_once(
        [
            svc.add_namespace_filter(actor, acme.destination.id, group_path="acme/team")
            for _ in range(ATTEMPTS)
        ]
    )
    assert _messages(outcomes) == [rules.NAMESPACE_FILTER_TAKEN] * (ATTEMPTS - 1), outcomes
