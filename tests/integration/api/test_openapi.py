"""The OpenAPI document lets Swagger UI authenticate and shows each answer's real shape."""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema
import pytest

from tests.conftest import Account, MakeAccount
from tests.integration.api.conftest import API, add_member, create_group, create_project

OPENAPI = "/-/openapi.json"


async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get(OPENAPI)
    assert response.status_code == 200
    data: dict[str, Any] = response.json()
    return data


def answer_schema(doc: dict[str, Any], method: str, path: str, status: str) -> dict[str, Any]:
    schema: dict[str, Any] = doc["paths"][API + path][method]["responses"][status]["content"][
        "application/json"
    ]["schema"]
    return schema


def validate(doc: dict[str, Any], schema: dict[str, Any], value: Any) -> None:
    """Validate `value` against `schema`, resolving `#/components/...` in `doc`."""
    jsonschema.validate(value, {**schema, "components": doc["components"]})


async def test_the_document_declares_both_token_schemes_and_every_rest_route_uses_them(
    client: httpx.AsyncClient,
) -> None:
    doc = await document(client)
    schemes = doc["components"]["securitySchemes"]
    private = schemes["PrivateToken"]
    assert (private["type"], private["in"], private["name"]) == (
        "apiKey",
        "header",
        "PRIVATE-TOKEN",
    )
    assert schemes["BearerToken"]["type"] == "http"
    assert schemes["BearerToken"]["scheme"] == "bearer"
    rest = {path: ops for path, ops in doc["paths"].items() if path.startswith(API)}
    assert len(rest) > 10
    for path, operations in rest.items():
        for method, operation in operations.items():
            assert {"PrivateToken": []} in operation["security"], (method, path)
            assert {"BearerToken": []} in operation["security"], (method, path)


@pytest.mark.parametrize(
    ("method", "path", "status", "model", "many"),
    [
        ("get", "/user", "200", "UserDetails", False),
        ("get", "/users", "200", "UserDetails", True),
        ("get", "/groups", "200", "Group", True),
        ("get", "/groups/{group_id}", "200", "Group", False),
        ("post", "/groups", "201", "Group", False),
        ("get", "/projects/{project_id}", "200", "Project", False),
        ("get", "/{kind}/{source_id}/members", "200", "Member", True),
        ("get", "/audit_events", "200", "AuditEvent", True),
        ("get", "/{kind}/{source_id}/audit_events/{event_id}", "200", "AuditEvent", False),
    ],
)
async def test_main_answers_are_objects_with_named_schemas(
    client: httpx.AsyncClient, method: str, path: str, status: str, model: str, many: bool
) -> None:
    doc = await document(client)
    schema = answer_schema(doc, method, path, status)
    ref = schema["items"]["$ref"] if many else schema["$ref"]
    assert ref == f"#/components/schemas/{model}"
    component = doc["components"]["schemas"][model]
    assert component["type"] == "object"
    assert {"id"} <= set(component["properties"])


async def test_real_answers_match_their_declared_schemas(
    client: httpx.AsyncClient, root: Account, make_account: MakeAccount
) -> None:
    alice = await make_account("alice")
    group = await create_group(client, root, "acme")
    project = await create_project(client, root, group["id"], "web")
    assert (await add_member(client, root, f"groups/{group['id']}", alice.user.id, 30)).is_success
    doc = await document(client)
    checks = [
        ("get", "/user", "/user"),
        ("get", "/users", "/users"),
        ("get", "/groups/{group_id}", f"/groups/{group['id']}"),
        ("get", "/groups/{group_id}/projects", f"/groups/{group['id']}/projects"),
        ("get", "/projects/{project_id}", f"/projects/{project['id']}"),
        ("get", "/{kind}/{source_id}/members", f"/groups/{group['id']}/members"),
        ("get", "/{kind}/{source_id}/audit_events", f"/groups/{group['id']}/audit_events"),
        ("get", "/audit_events", "/audit_events"),
        ("get", "/namespaces/{namespace_id}", f"/namespaces/{group['id']}"),
    ]
    for method, template, url in checks:
        response = await client.request(method, API + url, headers=root.headers)
        assert response.status_code == 200, (url, response.text)
        assert response.json(), url
        validate(doc, answer_schema(doc, method, template, "200"), response.json())
    missing = await client.get(f"{API}/groups/999999", headers=root.headers)
    assert missing.status_code == 404
    validate(doc, answer_schema(doc, "get", "/groups/{group_id}", "404"), missing.json())
