from __future__ import annotations

import asyncio
from typing import Any

import httpx
import jsonschema
import orjson

from auditwire.services.container import Services
from tests.conftest import Account
from tests.integration.api.conftest import API, create_group, create_project

INGEST = f"{API}/audit_events"


def event(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "event_type": "deploy_started",
        "entity_type": "Group",
        "entity_path": "acme",
        "author": {"name": "Deploy Bot"},
        "details": {"custom_message": "deploying"},
        "ip_address": "10.0.0.7",
    }
    return {**base, **overrides}


async def stored_total(client: httpx.AsyncClient, root: Account) -> int:
    response = await client.get(INGEST, headers=root.headers)
    return int(response.headers["X-Total"])


async def test_single_event_is_stored_with_resolved_entity_and_root_group(
    client: httpx.AsyncClient, root: Account, services: Services
) -> None:
    top = await create_group(client, root, "acme")
    sub = await create_group(client, root, "platform", parent_id=top["id"])
    project = await create_project(client, root, sub["id"], "api")
    response = await client.post(
        INGEST,
        json=event(entity_type="Project", entity_path="acme/platform/api"),
        headers=root.headers,
    )
    assert response.status_code == 201
    item = response.json()
    assert item["entity_id"] == project["id"] and item["entity_type"] == "Project"
    assert item["event_name"] == "deploy_started"
    assert item["details"]["author_name"] == "Deploy Bot"
    assert item["details"]["entity_path"] == "acme/platform/api"
    assert item["details"]["custom_message"] == "deploying"
    stored = await services.events.get(item["id"])
    assert stored is not None and stored.root_group_id == top["id"]
    assert stored.ip_address == "10.0.0.7"
    shown = await client.get(f"{API}/projects/{project['id']}/audit_events", headers=root.headers)
    assert shown.json()[0]["id"] == item["id"]


async def test_a_list_of_events_is_stored_in_order(
    client: httpx.AsyncClient, root: Account
) -> None:
    group = await create_group(client, root, "acme")
    batch = [
        event(event_type=f"step_{i}", entity_id=group["id"], entity_path=None) for i in range(5)
    ]
    batch.append(event(entity_type="User", entity_path="root", author={"id": root.user.id}))
    batch.append(event(entity_type="Instance", entity_path=None))
    response = await client.post(INGEST, json=batch, headers=root.headers)
    assert response.status_code == 201
    items = response.json()
    assert [i["event_name"] for i in items[:5]] == [f"step_{i}" for i in range(5)]
    assert items[5]["entity_id"] == root.user.id and items[5]["author_id"] == root.user.id
    assert items[5]["details"]["author_name"] == root.user.name
    assert items[6]["entity_type"] == "Instance"
    assert len({i["id"] for i in items}) == 7


async def test_idempotency_key_returns_the_same_events_on_retry(
    client: httpx.AsyncClient, root: Account
) -> None:
    await create_group(client, root, "acme")
    headers = {**root.headers, "Idempotency-Key": "req-42"}
    first = await client.post(INGEST, json=[event(), event()], headers=headers)
    before = await stored_total(client, root)
    retry = await client.post(INGEST, json=[event(), event()], headers=headers)
    assert first.status_code == retry.status_code == 201
    assert [e["id"] for e in retry.json()] == [e["id"] for e in first.json()]
    assert await stored_total(client, root) == before
    other = await client.post(
        INGEST, json=[event()], headers={**root.headers, "Idempotency-Key": "req-43"}
    )
    assert other.json()[0]["id"] not in {e["id"] for e in first.json()}


async def test_a_key_reused_with_another_body_is_refused_with_422(
    client: httpx.AsyncClient, root: Account
) -> None:
    await create_group(client, root, "acme")
    headers = {**root.headers, "Idempotency-Key": "deploy-1"}
    first = await client.post(INGEST, json=[event(custom_message="v1")], headers=headers)
    assert first.status_code == 201
    before = await stored_total(client, root)
    # The same events written differently are the same request.
    same = await client.post(
        INGEST,
        content=orjson.dumps([dict(reversed(event(custom_message="v1").items()))]),
        headers={**headers, "Content-Type": "application/json"},
    )
    assert same.status_code == 201 and same.json() == first.json()
    for body in ([event(custom_message="v2")], event(custom_message="v1"), [event()] * 2):
        reused = await client.post(INGEST, json=body, headers=headers)
        assert reused.status_code == 422, body
        assert reused.headers["content-type"] == "application/problem+json"
        problem = reused.json()
        assert problem["title"] == "Idempotency-Key is already used"
        assert problem["status"] == 422
        assert "MUST not be reused across different payloads" in problem["detail"]
        assert problem["type"].startswith("https://")
    assert await stored_total(client, root) == before
    # In one batch too: two requests with one key and different bodies, sent together.
    pair = await asyncio.gather(
        client.post(
            INGEST, json=event(custom_message="a"), headers={**headers, "Idempotency-Key": "k2"}
        ),
        client.post(
            INGEST, json=event(custom_message="b"), headers={**headers, "Idempotency-Key": "k2"}
        ),
    )
    assert sorted(a.status_code for a in pair) == [201, 422]
    assert await stored_total(client, root) == before + 1


async def test_concurrent_retries_with_one_key_store_the_events_once(
    client: httpx.AsyncClient, root: Account
) -> None:
    await create_group(client, root, "acme")
    headers = {**root.headers, "Idempotency-Key": "same"}
    before = await stored_total(client, root)
    answers = await asyncio.gather(
        *(client.post(INGEST, json=event(), headers=headers) for _ in range(8))
    )
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    assert await stored_total(client, root) == before + 1


async def test_malformed_event_rejects_the_whole_request_naming_the_field(
    client: httpx.AsyncClient, root: Account
) -> None:
    await create_group(client, root, "acme")
    before = await stored_total(client, root)
    cases = [
        ([event(), event(), event(), event(entity_type="Planet")], "events[3].entity_type"),
        ([event(), {k: v for k, v in event().items() if k != "author"}], "events[1].author"),
        ([event(event_type="")], "events[0].event_type"),
        ([event(ip_address="not-an-ip")], "events[0].ip_address"),
        ([event(created_at="yesterday")], "events[0].created_at"),
        ([event(entity_path=None)], "events[0]"),
        ([event(surprise=1)], "events[0].surprise"),
        ([event(details={"x": "nul\u0000"})], "events[0].details"),
        (event(entity_type="Planet"), "entity_type"),
    ]
    for body, field in cases:
        response = await client.post(INGEST, json=body, headers=root.headers)
        assert response.status_code == 400, (field, response.text)
        assert response.json()["error"].startswith(field), response.json()
    assert await stored_total(client, root) == before


async def test_unknown_entities_and_authors_reject_the_request(
    client: httpx.AsyncClient, root: Account
) -> None:
    await create_group(client, root, "acme")
    before = await stored_total(client, root)
    cases = [
        ([event(), event(entity_path="nope")], "events[1].entity_path does not match"),
        ([event(entity_type="Project", entity_path="acme")], "events[0].entity_path"),
        ([event(entity_path=None, entity_id=999999)], "events[0].entity_id does not match"),
        ([event(entity_type="User", entity_path="ghost")], "events[0].entity_path"),
        ([event(author={"id": 999999})], "events[0].author.id does not match"),
        (event(entity_id=999999), "entity_id does not match"),
    ]
    for body, message in cases:
        response = await client.post(INGEST, json=body, headers=root.headers)
        assert response.status_code == 400, (message, response.text)
        assert response.json()["error"].startswith(message), response.json()
    assert await stored_total(client, root) == before


async def test_request_level_limits_are_enforced(client: httpx.AsyncClient, root: Account) -> None:
    await create_group(client, root, "acme")
    too_many = await client.post(INGEST, json=[event()] * 1001, headers=root.headers)
    assert too_many.status_code == 400 and "maximum is 1000" in too_many.json()["error"]
    empty = await client.post(INGEST, json=[], headers=root.headers)
    assert empty.status_code == 400
    not_json = await client.post(
        INGEST, content=b"{nope", headers={**root.headers, "content-type": "application/json"}
    )
    assert not_json.status_code == 400 and not_json.json() == {"error": "body is not valid JSON"}
    long_key = await client.post(
        INGEST, json=event(), headers={**root.headers, "Idempotency-Key": "k" * 256}
    )
    assert long_key.status_code == 400
    full = await client.post(INGEST, json=[event()] * 1000, headers=root.headers)
    assert full.status_code == 201 and len(full.json()) == 1000


async def test_only_admins_with_api_scope_may_ingest(
    client: httpx.AsyncClient, root: Account, alice: Account, reader: Account
) -> None:
    await create_group(client, root, "acme")
    anonymous = await client.post(INGEST, json=event())
    user = await client.post(INGEST, json=event(), headers=alice.headers)
    read_only = await client.post(INGEST, json=event(), headers=reader.headers)
    assert anonymous.status_code == 401
    assert user.status_code == read_only.status_code == 403


async def test_stream_only_events_get_ids_but_are_not_listed(
    client: httpx.AsyncClient, root: Account, services: Services
) -> None:
    await create_group(client, root, "acme")
    before = await stored_total(client, root)
    response = await client.post(
        INGEST,
        json=event(event_type="repository_git_operation", stream_only=True),
        headers=root.headers,
    )
    assert response.status_code == 201
    assert isinstance(response.json()["id"], int)
    assert await stored_total(client, root) == before
    single = await client.get(f"{INGEST}/{response.json()['id']}", headers=root.headers)
    assert single.status_code == 404


async def test_concurrent_requests_each_get_their_own_events_and_one_bad_fails_alone(
    client: httpx.AsyncClient, root: Account
) -> None:
    await create_group(client, root, "acme")
    before = await stored_total(client, root)
    bodies = [event(event_type=f"e{i}") for i in range(40)]
    bodies[17] = event(entity_path="missing-group")
    answers = await asyncio.gather(
        *(client.post(INGEST, json=body, headers=root.headers) for body in bodies)
    )
    assert answers[17].status_code == 400
    good = [a for i, a in enumerate(answers) if i != 17]
    assert {a.status_code for a in good} == {201}
    assert [a.json()["event_name"] for a in good] == [f"e{i}" for i in range(40) if i != 17]
    assert len({a.json()["id"] for a in good}) == 39
    assert await stored_total(client, root) == before + 39


async def test_created_at_is_kept_in_utc(client: httpx.AsyncClient, root: Account) -> None:
    await create_group(client, root, "acme")
    response = await client.post(
        INGEST, json=event(created_at="2024-03-01T12:00:00+02:00"), headers=root.headers
    )
    assert response.json()["created_at"] == "2024-03-01T10:00:00.000Z"


async def test_the_openapi_document_describes_ingestion_as_the_route_validates_it(
    client: httpx.AsyncClient, root: Account
) -> None:
    document = (await client.get("/-/openapi.json")).json()
    operations = document["paths"]["/api/v4/audit_events"]
    assert {"get", "post"} <= set(operations)  # the listing stays described beside it
    post = operations["post"]
    assert [p["name"] for p in post["parameters"]] == ["Idempotency-Key"]
    schema = post["requestBody"]["content"]["application/json"]["schema"]
    validator = jsonschema.Draft202012Validator(
        {**schema, "components": document["components"]},
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )
    await create_group(client, root, "acme")
    bodies = {
        "one event": event(),
        "a list": [event(), event(entity_type="Instance", entity_path=None)],
        "an unknown field": event(colour="red"),
        "a bad entity_type": event(entity_type="Galaxy"),
        "no author": {k: v for k, v in event().items() if k != "author"},
        "an empty event_type": event(event_type=""),
        "an empty list": [],
        "1,001 events": [event()] * 1001,
    }
    for what, body in bodies.items():
        response = await client.post(INGEST, json=body, headers=root.headers)
        assert response.status_code in (201, 400), (what, response.text)
        described = validator.is_valid(body)
        assert described == (response.status_code == 201), (what, response.text)


async def test_any_target_id_is_stored_and_read_back_without_error(
    client: httpx.AsyncClient, root: Account, services: Services
) -> None:
    await create_group(client, root, "acme")
    given = ["--5", "1" * 30, "-42", "007", 12]
    for target_id in given:
        response = await client.post(
            INGEST, json=event(target={"id": target_id, "type": "Thing"}), headers=root.headers
        )
        assert response.status_code == 201, response.text
    listed = await client.get(INGEST, headers=root.headers, params={"per_page": 100})
    assert listed.status_code == 200
    ids = [item["id"] for item in listed.json() if item["event_name"] == "deploy_started"]
    streamed = []
    for event_id in sorted(ids):
        stored = await services.events.get(event_id)
        assert stored is not None
        streamed.append(orjson.loads(stored.stream_body())["target_id"])
    assert streamed == ["--5", "1" * 30, -42, 7, 12]
