"""The server keeps answering while the worst documents are posted to it over real HTTP."""

from __future__ import annotations

import asyncio
import time

import httpx

from auditwire.services.container import Services
from auditwire.services.context import Actor
from tests.conftest import Account
from tests.integration.graphql.conftest import ENDPOINT
from tests.integration.graphql.hostile import (
    aliases,
    fragment_bomb,
    instance_health,
    string_literal,
)
from tests.live import LiveServer

ROUNDS = 6  # posts of each document
HEALTH_BUDGET = 1.0  # seconds for `/-/health` to answer, as the issue measures it
CLIENT_TIMEOUT = 30.0  # seconds


async def test_health_answers_within_a_second_while_the_worst_documents_run(
    live_server: LiveServer, root: Account, services: Services
) -> None:
    await services.destinations.create_instance_destination(
        Actor(root.user), destination_url="https://siem.example.com/i"
    )
    attacks = [
        (fragment_bomb(), {}),
        (aliases(20_000), {}),
        (aliases(500), {}),
        (instance_health(5_000), root.headers),
        (instance_health(400), root.headers),
        (string_literal(10_000_000), {}),
    ]
    answers: list[httpx.Response] = []
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=len(attacks) + 1)
    async with httpx.AsyncClient(
        base_url=live_server.url, timeout=CLIENT_TIMEOUT, limits=limits
    ) as http:

        async def attack(document: str, headers: dict[str, str]) -> None:
            for _ in range(ROUNDS):
                answers.append(await http.post(ENDPOINT, json={"query": document}, headers=headers))

        running = [asyncio.create_task(attack(d, h)) for d, h in attacks]
        while not all(task.done() for task in running) or not latencies:
            started = time.perf_counter()
            health = await http.get("/-/health")
            latencies.append(time.perf_counter() - started)
            assert health.status_code == 200
        await asyncio.gather(*running)

    assert len(answers) == ROUNDS * len(attacks)
    for answer in answers:
        assert answer.status_code in (200, 422), answer.text[:200]
        body = answer.json()
        assert body.get("data") is None and body["errors"][0]["message"], body
    assert max(latencies) < HEALTH_BUDGET, sorted(latencies)[-5:]
