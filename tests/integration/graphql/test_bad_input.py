"""Bad input gets GitLab's message, in the payload's `errors` or as a GraphQL error, never a 500."""

from __future__ import annotations

from typing import Any

from auditwire.domain.owner import OwnerKind
from auditwire.services.container import Services
from auditwire.services.context import Actor
from tests.conftest import Account, MakeAccount
from tests.integration.graphql.conftest import (
    RESOURCE_NOT_AVAILABLE,
    Acme,
    RunGraphQL,
    destination_gid,
    gid,
    top_level_error,
)

CREATE = """
mutation($input: ExternalAuditEventDestinationCreateInput!) {
  externalAuditEventDestinationCreate(input: $input) {
    errors externalAuditEventDestination { id name verificationToken active }
  }
}"""
UPDATE = """
mutation($input: ExternalAuditEventDestinationUpdateInput!) {
  externalAuditEventDestinationUpdate(input: $input) {
    errors externalAuditEventDestination { name destinationUrl active }
  }
}"""
HEADER_CREATE = """
mutation($input: AuditEventsStreamingHeadersCreateInput!) {
  auditEventsStreamingHeadersCreate(input: $input) { errors header { id key } }
}"""
HEADER_UPDATE = """
mutation($input: AuditEventsStreamingHeadersUpdateInput!) {
  auditEventsStreamingHeadersUpdate(input: $input) { errors header { key value } }
}"""
EVENTS_ADD = """
mutation($input: AuditEventsStreamingDestinationEventsAddInput!) {
  auditEventsStreamingDestinationEventsAdd(input: $input) { errors eventTypeFilters }
}"""
EVENTS_REMOVE = """
mutation($input: AuditEventsStreamingDestinationEventsRemoveInput!) {
  auditEventsStreamingDestinationEventsRemove(input: $input) { errors }
}"""
FILTER_ADD = """
mutation($input: AuditEventsStreamingHTTPNamespaceFiltersAddInput!) {
  auditEventsStreamingHTTPNamespaceFiltersAdd(input: $input) {
    errors namespaceFilter { id namespace { id fullPath } }
  }
}"""


def payload(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    (value,) = body["data"].values()
    assert isinstance(value, dict)
    return value


async def create(graphql: RunGraphQL, owner: Account, **fields: Any) -> dict[str, Any]:
    variables = {"input": {"groupPath": "acme", **fields}}
    return payload(await graphql(CREATE, variables, as_=owner))


# Global IDs -----------------------------------------------------------------------------------


MALFORMED_IDS = [
    (
        "gid://gitlab/Group/1",
        '"gid://gitlab/Group/1" does not represent an instance of '
        "AuditEvents::ExternalAuditEventDestination",
    ),
    ("42", '"42" is not a valid Global ID'),
    (
        "gid://gitlab/AuditEvents::ExternalAuditEventDestination/abc",
        '"gid://gitlab/AuditEvents::ExternalAuditEventDestination/abc" is not a valid Global ID',
    ),
    (
        "gid://gitlab/AuditEvents::ExternalAuditEventDestination/99999999999999999999999",
        '"gid://gitlab/AuditEvents::ExternalAuditEventDestination/99999999999999999999999" '
        "is not a valid Global ID",
    ),
]


async def test_malformed_or_foreign_global_ids_get_a_graphql_error(
    graphql: RunGraphQL, acme: Acme
) -> None:
    for value, message in MALFORMED_IDS:
        body = await graphql(UPDATE, {"input": {"id": value, "name": "x"}}, as_=acme.owner)
        assert body.get("data") is None
        assert message in top_level_error(body)

        inline = (
            f'mutation {{ externalAuditEventDestinationDestroy(input: {{id: "{value}"}}) '
            "{ errors } }"
        )
        body = await graphql(inline, as_=acme.owner)
        assert message in top_level_error(body)


async def test_unknown_destination_id_is_not_available(graphql: RunGraphQL, acme: Acme) -> None:
    body = await graphql(
        UPDATE, {"input": {"id": destination_gid(999_999), "name": "x"}}, as_=acme.owner
    )
    assert body["data"]["externalAuditEventDestinationUpdate"] is None
    assert top_level_error(body) == RESOURCE_NOT_AVAILABLE


async def test_group_destination_id_under_the_instance_model_is_not_available(
    graphql: RunGraphQL, acme: Acme, root: Account
) -> None:
    as_instance = gid("AuditEvents::InstanceExternalAuditEventDestination", acme.destination.id)
    body = await graphql(
        """mutation($input: InstanceExternalAuditEventDestinationDestroyInput!) {
             instanceExternalAuditEventDestinationDestroy(input: $input) { errors } }""",
        {"input": {"id": as_instance}},
        as_=root,
    )
    assert top_level_error(body) == RESOURCE_NOT_AVAILABLE


async def test_owner_cannot_touch_another_groups_destination(
    graphql: RunGraphQL, acme: Acme, services: Services, make_account: MakeAccount
) -> None:
    rival = await make_account("rival")
    await services.namespaces.create_group(Actor(rival.user), path="globex", name="Globex")
    theirs = await services.destinations.create_group_destination(
        Actor(rival.user), group_path="globex", destination_url="https://siem.example.com/g"
    )
    header = await services.destinations.create_header(
        Actor(rival.user),
        theirs.id,
        kind=OwnerKind.GROUP,
        key="Authorization",
        value="their secret",
    )
    attempts = [
        (UPDATE, {"id": destination_gid(theirs.id), "name": "mine now"}),
        (HEADER_CREATE, {"destinationId": destination_gid(theirs.id), "key": "K", "value": "v"}),
        (
            HEADER_UPDATE,
            {"headerId": gid("AuditEvents::Streaming::Header", header.id), "value": "x"},
        ),
        (EVENTS_ADD, {"destinationId": destination_gid(theirs.id), "eventTypeFilters": ["a"]}),
        (FILTER_ADD, {"destinationId": destination_gid(theirs.id), "groupPath": "acme"}),
    ]
    for document, variables in attempts:
        body = await graphql(document, {"input": variables}, as_=acme.owner)
        assert top_level_error(body) == RESOURCE_NOT_AVAILABLE, document
    unchanged = await services.destinations.group_destinations(
        Actor(rival.user), (await services.namespaces.group(Actor(rival.user), "globex"))[0]
    )
    assert unchanged is not None
    assert unchanged[0].name == theirs.name
    assert [(h.key, h.value) for h in unchanged[0].headers] == [("Authorization", "their secret")]
    assert unchanged[0].event_types == []


async def test_unknown_group_path_is_not_available(graphql: RunGraphQL, acme: Acme) -> None:
    body = await graphql(
        CREATE,
        {"input": {"groupPath": "nope", "destinationUrl": "https://siem.example.com/n"}},
        as_=acme.owner,
    )
    assert top_level_error(body) == RESOURCE_NOT_AVAILABLE


# Destinations ---------------------------------------------------------------------------------


DESTINATION_RULES = [
    (
        {"destinationUrl": "https://siem.example.com/" + "a" * 232},
        "Destination url is too long (maximum is 255 characters)",
    ),
    ({"destinationUrl": ""}, "Destination url can't be blank"),
    (
        {"destinationUrl": "ftp://siem.example.com/x"},
        "Destination url is blocked: Only allowed schemes are http, https",
    ),
    (
        {"destinationUrl": "https://siem.example.com/n", "name": "n" * 73},
        "Name is too long (maximum is 72 characters)",
    ),
    (
        {"destinationUrl": "https://siem.example.com/n", "verificationToken": "a" * 15},
        "Verification token is too short (minimum is 16 characters)",
    ),
    (
        {"destinationUrl": "https://siem.example.com/n", "verificationToken": "a" * 25},
        "Verification token is too long (maximum is 24 characters)",
    ),
    (
        {"destinationUrl": "https://siem.example.com/acme"},
        "Destination url has already been taken",
    ),
    (
        {"destinationUrl": "https://siem.example.com/n", "name": "siem"},
        "Name has already been taken",
    ),
    (
        {"destinationUrl": "https://siem.example.com/n", "groupPath": "acme/team"},
        "Group must not be a subgroup",
    ),
]


async def test_destination_rules_report_gitlabs_messages(graphql: RunGraphQL, acme: Acme) -> None:
    for fields, message in DESTINATION_RULES:
        result = await create(graphql, acme.owner, **fields)
        assert result == {"errors": [message], "externalAuditEventDestination": None}, fields


async def test_exactly_255_characters_and_a_caller_token_are_accepted_as_given(
    graphql: RunGraphQL, acme: Acme
) -> None:
    url = "https://siem.example.com/" + "a" * 230
    assert len(url) == 255
    result = await create(
        graphql,
        acme.owner,
        destinationUrl=url,
        name="n" * 72,
        verificationToken=" my-own-token-16 ",
    )
    assert result["errors"] == []
    assert result["externalAuditEventDestination"]["verificationToken"] == " my-own-token-16 "


async def test_a_sixth_active_destination_is_refused_until_one_is_deactivated(
    graphql: RunGraphQL, acme: Acme
) -> None:
    ids = [acme.destination.id]
    for n in range(4):
        result = await create(graphql, acme.owner, destinationUrl=f"https://siem.example.com/{n}")
        assert result["errors"] == []
    sixth = await create(graphql, acme.owner, destinationUrl="https://siem.example.com/6")
    assert sixth["errors"] == ["Maximum number of external audit event destinations (5) exceeded"]

    deactivated = payload(
        await graphql(
            UPDATE, {"input": {"id": destination_gid(ids[0]), "active": False}}, as_=acme.owner
        )
    )
    assert deactivated["externalAuditEventDestination"]["active"] is False
    sixth = await create(graphql, acme.owner, destinationUrl="https://siem.example.com/6")
    assert sixth["errors"] == []
    reactivated = payload(
        await graphql(
            UPDATE, {"input": {"id": destination_gid(ids[0]), "active": True}}, as_=acme.owner
        )
    )
    assert reactivated["errors"] == [
        "Maximum number of external audit event destinations (5) exceeded"
    ]


async def test_update_refuses_taken_values_and_cannot_change_the_token(
    graphql: RunGraphQL, acme: Acme
) -> None:
    other = await create(graphql, acme.owner, destinationUrl="https://siem.example.com/o", name="o")
    other_id = other["externalAuditEventDestination"]["id"]
    taken_url = payload(
        await graphql(
            UPDATE,
            {"input": {"id": other_id, "destinationUrl": "https://siem.example.com/acme"}},
            as_=acme.owner,
        )
    )
    assert taken_url["errors"] == ["Destination url has already been taken"]
    taken_name = payload(
        await graphql(UPDATE, {"input": {"id": other_id, "name": "siem"}}, as_=acme.owner)
    )
    assert taken_name["errors"] == ["Name has already been taken"]
    body = await graphql(
        UPDATE, {"input": {"id": other_id, "verificationToken": "x" * 20}}, as_=acme.owner
    )
    assert "verificationToken" in top_level_error(body)


# Headers --------------------------------------------------------------------------------------


async def test_header_rules_report_gitlabs_messages(graphql: RunGraphQL, acme: Acme) -> None:
    destination = destination_gid(acme.destination.id)

    async def add(key: str, value: str = "v") -> list[str]:
        variables = {"input": {"destinationId": destination, "key": key, "value": value}}
        result: list[str] = payload(await graphql(HEADER_CREATE, variables, as_=acme.owner))[
            "errors"
        ]
        return result

    for key in (
        "X-Gitlab-Event-Streaming-Token",
        "x-gitlab-event-streaming-token",
        "X-GITLAB-EVENT-STREAMING-TOKEN",
    ):
        assert await add(key) == ["Key cannot be X-Gitlab-Event-Streaming-Token"]
    assert await add("k" * 256) == ["Key is too long (maximum is 255 characters)"]
    assert await add("K", "v" * 2001) == ["Value is too long (maximum is 2000 characters)"]
    assert await add("") == ["Key can't be blank"]
    assert await add("K", "") == ["Value can't be blank"]
    for n in range(20):
        assert await add(f"X-Header-{n}", "v" * 2000 if n == 0 else "v") == []
    assert await add("X-Header-0") == ["Headers are limited to 20 per destination"]
    assert await add("X-Header-21") == ["Headers are limited to 20 per destination"]


async def test_header_update_keeps_keys_unique_and_never_the_token_header(
    graphql: RunGraphQL, acme: Acme, services: Services
) -> None:
    actor = Actor(acme.owner.user)
    first = await services.destinations.create_header(
        actor, acme.destination.id, kind=OwnerKind.GROUP, key="A", value="1"
    )
    await services.destinations.create_header(
        actor, acme.destination.id, kind=OwnerKind.GROUP, key="B", value="2"
    )
    header_id = gid("AuditEvents::Streaming::Header", first.id)
    taken = payload(
        await graphql(HEADER_UPDATE, {"input": {"headerId": header_id, "key": "B"}}, as_=acme.owner)
    )
    assert taken == {"errors": ["Key has already been taken"], "header": None}
    reserved = payload(
        await graphql(
            HEADER_UPDATE,
            {"input": {"headerId": header_id, "key": "x-GitLab-event-streaming-TOKEN"}},
            as_=acme.owner,
        )
    )
    assert reserved["errors"] == ["Key cannot be X-Gitlab-Event-Streaming-Token"]
    renamed = payload(
        await graphql(
            HEADER_UPDATE,
            {"input": {"headerId": header_id, "key": "C", "value": "3"}},
            as_=acme.owner,
        )
    )
    assert renamed == {"errors": [], "header": {"key": "C", "value": "3"}}


# Filters --------------------------------------------------------------------------------------


async def test_event_type_filter_rules_report_gitlabs_messages(
    graphql: RunGraphQL, acme: Acme
) -> None:
    destination = destination_gid(acme.destination.id)

    async def run(document: str, types: list[str]) -> dict[str, Any]:
        variables = {"input": {"destinationId": destination, "eventTypeFilters": types}}
        return payload(await graphql(document, variables, as_=acme.owner))

    for document in (EVENTS_ADD, EVENTS_REMOVE):  # GitLab checks this argument first
        variables = {"input": {"destinationId": destination, "eventTypeFilters": []}}
        empty = await graphql(document, variables, as_=acme.owner)
        assert top_level_error(empty) == "event type filters must be present"
    assert (await run(EVENTS_ADD, ["t" * 256]))["errors"] == [
        "Validation failed: Audit event type is too long (maximum is 255 characters)"
    ]
    added = await run(EVENTS_ADD, ["group_created", "project_created", "group_created"])
    assert added == {"errors": [], "eventTypeFilters": ["group_created", "project_created"]}
    assert (await run(EVENTS_ADD, ["project_created"]))["errors"] == [
        "Validation failed: Audit event type has already been taken"
    ]
    assert (await run(EVENTS_REMOVE, ["group_created", "nope", "other"]))["errors"] == [
        "Couldn't find event type filters where audit event type(s): nope, other"
    ]
    assert (await run(EVENTS_REMOVE, ["group_created"]))["errors"] == []
    assert (await run(EVENTS_ADD, ["member_created"]))["eventTypeFilters"] == [
        "project_created",
        "member_created",
    ]


async def test_namespace_filter_must_lie_under_the_group_and_be_the_only_one(
    graphql: RunGraphQL, acme: Acme, services: Services, make_account: MakeAccount
) -> None:
    rival = await make_account("rival")
    await services.namespaces.create_group(Actor(rival.user), path="globex", name="Globex")
    destination = destination_gid(acme.destination.id)

    async def add(**where: str) -> dict[str, Any]:
        variables = {"input": {"destinationId": destination, **where}}
        return await graphql(FILTER_ADD, variables, as_=acme.owner)

    outside = payload(await add(groupPath="globex"))
    assert outside == {
        "errors": [
            "External audit event destination does not belong to the top-level group of "
            "the namespace."
        ],
        "namespaceFilter": None,
    }
    both = await add(groupPath="acme/team", projectPath="acme/team/app")
    assert top_level_error(both) == (
        "One and only one of [groupPath, projectPath] arguments is required."
    )
    assert top_level_error(await add()) == (
        "One and only one of [groupPath, projectPath] arguments is required."
    )
    assert top_level_error(await add(projectPath="acme/none")) == RESOURCE_NOT_AVAILABLE

    created = payload(await add(projectPath="acme/team/app"))
    assert created["errors"] == []
    assert created["namespaceFilter"]["namespace"]["fullPath"] == "acme/team/app"
    assert created["namespaceFilter"]["id"].startswith(
        "gid://gitlab/AuditEvents::Streaming::HTTP::NamespaceFilter/"
    )
    again = payload(await add(groupPath="acme/team"))
    assert again["errors"] == ["External audit event destination has already been taken"]


async def test_requests_that_are_not_graphql_get_a_client_error(
    graphql: RunGraphQL, acme: Acme, client: Any
) -> None:
    syntax = await graphql("mutation { externalAuditEventDestinationCreate(", as_=acme.owner)
    assert "Syntax Error" in top_level_error(syntax)
    unknown = await graphql("query { nothingHere }", as_=acme.owner)
    assert "nothingHere" in top_level_error(unknown)
    cursor = await graphql(
        'query { group(fullPath: "acme") { externalAuditEventDestinations(after: "@@") '
        "{ nodes { id } } } }",
        as_=acme.owner,
    )
    assert top_level_error(cursor) == "Please provide a valid cursor"
    not_json = await client.post(
        "/api/graphql",
        content=b"{not json",
        headers={**acme.owner.headers, "content-type": "application/json"},
    )
    assert 400 <= not_json.status_code < 500


# Requests that are not GraphQL at all ---------------------------------------------------------

NOT_GRAPHQL_BODIES = [
    b"null",
    b"123",
    b'"x"',
    b"[]",
    b"\xff\xfe{",
    b"[" * 5_000 + b"]" * 5_000,
    b'{"query": "{ __typename }", "variables": {"v": "\\ud800"}}',
    b'{"query": "{ __typename }", "variables": ' + b"[" * 40 + b"]" * 40 + b"}",
    b'{"query": 5}',
    b'{"query": "{ __typename }", "variables": [1]}',
    b'{"variables": {}}',
]


async def test_a_body_that_is_not_a_graphql_request_gets_a_graphql_error(client: Any) -> None:
    for body in NOT_GRAPHQL_BODIES:
        response = await client.post(
            "/api/graphql", content=body, headers={"content-type": "application/json"}
        )
        assert 400 <= response.status_code < 500, (body[:40], response.status_code)
        errors = response.json()["errors"]
        assert errors and errors[0]["message"], body[:40]


async def test_a_body_that_is_not_json_gets_415_as_json(client: Any) -> None:
    response = await client.post(
        "/api/graphql", content=b"query { __typename }", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 415
    assert response.json() == {"errors": [{"message": "Content-Type must be application/json"}]}


async def test_nul_in_variables_or_literals_is_refused_on_every_backend(
    graphql: RunGraphQL, acme: Acme, client: Any
) -> None:
    nul_variable = await client.post(
        "/api/graphql",
        json={"query": CREATE, "variables": {"input": {"groupPath": "acme", "name": "a\u0000"}}},
        headers=acme.owner.headers,
    )
    assert nul_variable.status_code == 400
    assert nul_variable.json() == {
        "errors": [{"message": "variables must not contain NUL characters"}]
    }
    literal = (
        'mutation { externalAuditEventDestinationCreate(input: {groupPath: "acme", '
        'destinationUrl: "https://siem.example.com/n", name: "a\\u0000"}) { errors } }'
    )
    nul_literal = await client.post(
        "/api/graphql", json={"query": literal}, headers=acme.owner.headers
    )
    assert nul_literal.status_code == 400
    assert "NUL" in nul_literal.json()["errors"][0]["message"]
    body = await graphql(
        '{ group(fullPath: "acme") { externalAuditEventDestinations { nodes { name } } } }',
        as_=acme.owner,
    )
    names = [n["name"] for n in body["data"]["group"]["externalAuditEventDestinations"]["nodes"]]
    assert names == ["siem"]


async def test_get_with_bad_variables_gets_a_graphql_error(client: Any) -> None:
    for params in (
        {"query": "{ __typename }", "variables": "{nope"},
        {"query": "{ __typename }", "variables": "[1]"},
        {"query": "x" * 10_001},
    ):
        response = await client.get("/api/graphql", params=params)
        assert 400 <= response.status_code < 500
        assert response.json()["errors"][0]["message"]
    bad_utf8 = await client.get("/api/graphql?query=%7B__typename%7D&variables=%FF")
    assert bad_utf8.status_code == 400
    assert bad_utf8.json()["errors"]


async def test_too_many_event_type_filters_in_one_call_are_refused(
    graphql: RunGraphQL, acme: Acme, client: Any
) -> None:
    destination = destination_gid(acme.destination.id)
    hundred_thousand = await client.post(
        "/api/graphql",
        json={
            "query": EVENTS_ADD,
            "variables": {
                "input": {
                    "destinationId": destination,
                    "eventTypeFilters": [f"t{n}" for n in range(100_000)],
                }
            },
        },
        headers=acme.owner.headers,
    )
    assert hundred_thousand.status_code == 400
    assert hundred_thousand.json() == {"errors": [{"message": "Array parameter too large"}]}
    variables = {
        "input": {"destinationId": destination, "eventTypeFilters": [f"t{n}" for n in range(1001)]}
    }
    over = await graphql(EVENTS_ADD, variables, as_=acme.owner)
    assert top_level_error(over) == "event type filters are limited to 1000 per request"
    variables["input"]["eventTypeFilters"] = [f"t{n}" for n in range(1000)]
    at_limit = payload(await graphql(EVENTS_ADD, variables, as_=acme.owner))
    assert at_limit["errors"] == [] and len(at_limit["eventTypeFilters"]) == 1000
