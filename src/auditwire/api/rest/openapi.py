"""What the OpenAPI document says beyond what FastAPI infers: how to authenticate, and the
JSON shapes of the REST answers (the routes return prepared JSON, so FastAPI sees none)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

PRIVATE_TOKEN = "PrivateToken"
BEARER = "BearerToken"
SECURITY_SCHEMES: dict[str, Any] = {
    PRIVATE_TOKEN: {
        "type": "apiKey",
        "in": "header",
        "name": "PRIVATE-TOKEN",
        "description": "A personal access token, as GitLab takes it",
    },
    BEARER: {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal access token as `Authorization: Bearer <token>`",
    },
}
# Either scheme authenticates a request: OpenAPI's list of alternatives.
SECURITY: list[dict[str, list[str]]] = [{PRIVATE_TOKEN: []}, {BEARER: []}]
PUBLIC_PREFIX = "/-/"  # health, readiness, metrics and the pages: no token


class UserBasic(BaseModel):
    """A user as every signed-in caller sees one."""

    id: int
    username: str
    name: str
    state: str = Field(examples=["active"])
    locked: bool
    avatar_url: str | None
    web_url: str


class UserDetails(UserBasic):
    """A user as administrators (and the user itself, at `GET /user`) see one."""

    email: str | None = None
    is_admin: bool | None = None
    created_at: str | None = Field(default=None, examples=["2026-11-20T10:31:02.123Z"])
    bot: bool | None = None


class Member(UserBasic):
    access_level: int = Field(description="10 Guest, 20 Reporter, 30 Developer, ...")
    created_at: str
    expires_at: str | None = Field(examples=["2027-01-31"])
    membership_state: str


class Group(BaseModel):
    id: int
    web_url: str
    name: str
    path: str
    description: str
    visibility: str
    full_name: str
    full_path: str
    parent_id: int | None
    avatar_url: str | None
    created_at: str


class Namespace(BaseModel):
    id: int
    name: str
    path: str
    kind: str = Field(examples=["group"])
    full_path: str
    parent_id: int | None
    avatar_url: str | None
    web_url: str
    plan: str | None = Field(default=None, examples=["ultimate"])


class Project(BaseModel):
    id: int
    description: str
    name: str
    name_with_namespace: str
    path: str
    path_with_namespace: str
    created_at: str
    default_branch: str | None
    visibility: str
    web_url: str
    avatar_url: str | None
    namespace: Namespace


class AuditEvent(BaseModel):
    id: int
    author_id: int
    entity_id: int
    entity_type: str = Field(examples=["Group"])
    event_name: str = Field(examples=["group_created"])
    details: dict[str, Any]
    created_at: str = Field(examples=["2026-11-20T10:31:02.123Z"])


class PersonalAccessToken(BaseModel):
    id: int
    name: str
    revoked: bool
    created_at: str
    scopes: list[str]
    user_id: int
    active: bool
    expires_at: str | None
    token: str = Field(description="The token itself, shown only in this answer")


class Error(BaseModel):
    """GitLab's error bodies: `message` (a string or fields' messages) or `error`."""

    message: str | dict[str, list[str]] | None = None
    error: str | None = None


MODELS: tuple[type[BaseModel], ...] = (
    UserBasic,
    UserDetails,
    Member,
    Group,
    Namespace,
    Project,
    AuditEvent,
    PersonalAccessToken,
    Error,
)

SOURCE = "/{kind}/{source_id}"  # a group's or a project's routes, as FastAPI names the path
# (method, path under the REST prefix) -> (status, model, a list of them?)
RESPONSES: dict[tuple[str, str], tuple[str, type[BaseModel], bool]] = {
    ("get", "/user"): ("200", UserDetails, False),
    ("get", "/users"): ("200", UserDetails, True),
    ("post", "/users"): ("201", UserDetails, False),
    ("get", "/users/{user_id}"): ("200", UserDetails, False),
    ("post", "/users/{user_id}/personal_access_tokens"): ("201", PersonalAccessToken, False),
    ("get", "/groups"): ("200", Group, True),
    ("post", "/groups"): ("201", Group, False),
    ("get", "/groups/{group_id}"): ("200", Group, False),
    ("put", "/groups/{group_id}"): ("200", Group, False),
    ("get", "/groups/{group_id}/subgroups"): ("200", Group, True),
    ("get", "/groups/{group_id}/projects"): ("200", Project, True),
    ("get", "/projects"): ("200", Project, True),
    ("post", "/projects"): ("201", Project, False),
    ("get", "/projects/{project_id}"): ("200", Project, False),
    ("get", "/namespaces/{namespace_id}"): ("200", Namespace, False),
    ("put", "/namespaces/{namespace_id}"): ("200", Namespace, False),
    ("get", SOURCE + "/members"): ("200", Member, True),
    ("get", SOURCE + "/members/all"): ("200", Member, True),
    ("post", SOURCE + "/members"): ("201", Member, False),
    ("get", SOURCE + "/members/{user_id}"): ("200", Member, False),
    ("put", SOURCE + "/members/{user_id}"): ("200", Member, False),
    ("get", "/audit_events"): ("200", AuditEvent, True),
    ("get", "/audit_events/{event_id}"): ("200", AuditEvent, False),
    ("get", SOURCE + "/audit_events"): ("200", AuditEvent, True),
    ("get", SOURCE + "/audit_events/{event_id}"): ("200", AuditEvent, False),
}
INGEST = ("post", "/audit_events")
ERROR_STATUSES = {"400": "Bad request", "401": "No valid token", "403": "Not allowed"}
ERROR_STATUSES |= {"404": "Not found"}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def component_schemas() -> dict[str, Any]:
    """The JSON schemas of `MODELS`, keyed by name, with references between them resolved
    to `#/components/schemas/...`."""
    schemas: dict[str, Any] = {}
    for model in MODELS:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return schemas


def describe_rest(document: dict[str, Any], prefix: str) -> None:
    """Add security schemes, each REST operation's security and answer schemas, and GitLab's
    error answers to `document` (FastAPI's OpenAPI dict), in place."""
    components = document.setdefault("components", {})
    components.setdefault("schemas", {}).update(component_schemas())
    components["securitySchemes"] = SECURITY_SCHEMES
    for path, operations in document.get("paths", {}).items():
        if path.startswith(PUBLIC_PREFIX):
            continue
        for method, operation in operations.items():
            if not path.startswith(prefix):  # GraphQL: a token, or none for public data
                operation["security"] = [*SECURITY, {}]
                continue
            operation["security"] = SECURITY
            route = (method, path[len(prefix) :])
            answer = RESPONSES.get(route)
            responses = operation.setdefault("responses", {})
            if route == INGEST:  # an object for an object, a list for a list
                responses["201"]["content"] = {
                    "application/json": {
                        "schema": {
                            "oneOf": [
                                _ref(AuditEvent),
                                {"type": "array", "items": _ref(AuditEvent)},
                            ]
                        }
                    }
                }
            elif answer is not None:
                status, model, many = answer
                schema: dict[str, Any] = (
                    {"type": "array", "items": _ref(model)} if many else _ref(model)
                )
                responses[status] = {
                    "description": responses.get(status, {}).get("description", "OK"),
                    "content": {"application/json": {"schema": schema}},
                }
            for status, description in ERROR_STATUSES.items():
                responses.setdefault(
                    status,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": _ref(Error)}},
                    },
                )
