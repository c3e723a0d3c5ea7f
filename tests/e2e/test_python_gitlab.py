"""python-gitlab itself, unchanged, against a running auditwire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import gitlab
import pytest
from gitlab.const import AccessLevel

from tests.conftest import Account
from tests.live import LiveServer

REQUEST_TIMEOUT = 10.0  # seconds


def names(events: list[gitlab.base.RESTObject]) -> list[str]:
    return [e.event_name for e in events]


def test_python_gitlab_manages_groups_projects_members_and_reads_their_audit_events(
    live_server: LiveServer, root: Account
) -> None:
    gl = gitlab.Gitlab(live_server.url, private_token=root.token, timeout=REQUEST_TIMEOUT)
    gl.auth()
    assert gl.user is not None and gl.user.username == "root"
    started = datetime.now(UTC) - timedelta(seconds=1)

    alice = gl.users.create({"username": "alice", "email": "alice@example.com", "name": "Alice"})
    group = gl.groups.create({"name": "Acme", "path": "acme"})
    subgroup = gl.groups.create({"name": "Platform", "path": "platform", "parent_id": group.id})
    project = gl.projects.create({"name": "API", "path": "api", "namespace_id": subgroup.id})
    assert project.path_with_namespace == "acme/platform/api"
    assert gl.groups.get("acme/platform").id == subgroup.id
    assert gl.projects.get("acme/platform/api").id == project.id
    assert [g.full_path for g in group.subgroups.list(get_all=True)] == ["acme/platform"]
    assert [p.id for p in group.projects.list(get_all=True)] == [project.id]

    member = group.members.create({"user_id": alice.id, "access_level": AccessLevel.DEVELOPER})
    member.access_level = AccessLevel.MAINTAINER
    member.save()
    assert group.members.get(alice.id).access_level == AccessLevel.MAINTAINER
    inherited = {m.username: m.access_level for m in subgroup.members_all.list(get_all=True)}
    assert inherited == {"root": AccessLevel.OWNER, "alice": AccessLevel.MAINTAINER}
    project.members.create({"user_id": alice.id, "access_level": AccessLevel.REPORTER})
    project.members.delete(alice.id)

    updated = gl.http_put(f"/namespaces/{group.id}", post_data={"plan": "premium"})
    assert isinstance(updated, dict) and updated["plan"] == "premium"

    group_events = group.audit_events.list(get_all=True)
    assert names(group_events) == [
        "namespace_plan_updated",
        "member_updated",
        "member_created",
        "group_created",
    ]
    project_events = project.audit_events.list(get_all=True)
    assert names(project_events) == ["member_destroyed", "member_created", "project_created"]
    assert project.audit_events.get(project_events[-1].id).event_name == "project_created"

    ended = datetime.now(UTC) + timedelta(seconds=1)
    window = group.audit_events.list(
        created_after=started.isoformat(), created_before=ended.isoformat(), get_all=True
    )
    assert names(window) == names(group_events)
    assert group.audit_events.list(created_before=started.isoformat(), get_all=True) == []

    page = group.audit_events.list(get_all=False, per_page=2, page=2)
    assert [e.id for e in page] == [e.id for e in group_events[2:4]]
    pages = group.audit_events.list(iterator=True, per_page=3)
    assert pages.total == 4 and pages.total_pages == 2

    instance = gl.audit_events.list(entity_type="Project", entity_id=project.id, get_all=True)
    assert names(instance) == names(project_events)
    users = gl.audit_events.list(entity_type="User", entity_id=alice.id, get_all=True)
    assert names(users) == ["user_created"]


def test_python_gitlab_sees_gitlab_errors_as_its_own_exceptions(
    live_server: LiveServer, root: Account
) -> None:
    gl = gitlab.Gitlab(live_server.url, private_token=root.token, timeout=REQUEST_TIMEOUT)
    gl.groups.create({"name": "Acme", "path": "acme"})
    with pytest.raises(gitlab.exceptions.GitlabCreateError) as duplicate:
        gl.groups.create({"name": "Acme", "path": "acme"})
    assert duplicate.value.response_code == 400
    assert "has already been taken" in duplicate.value.error_message
    with pytest.raises(gitlab.exceptions.GitlabGetError) as missing:
        gl.groups.get("nope")
    assert missing.value.response_code == 404
    anonymous = gitlab.Gitlab(live_server.url, private_token="awpat-wrong")
    with pytest.raises(gitlab.exceptions.GitlabAuthenticationError):
        anonymous.auth()


def test_python_gitlab_ingests_events_and_reads_them_back(
    live_server: LiveServer, root: Account
) -> None:
    gl = gitlab.Gitlab(live_server.url, private_token=root.token, timeout=REQUEST_TIMEOUT)
    group = gl.groups.create({"name": "Acme", "path": "acme"})
    sent = gl.http_post(
        "/audit_events",
        post_data=[
            {
                "event_type": "deploy_finished",
                "entity_type": "Group",
                "entity_path": "acme",
                "author": {"name": "Deploy Bot"},
            }
        ],
    )
    assert isinstance(sent, list) and sent[0]["event_name"] == "deploy_finished"
    assert group.audit_events.get(sent[0]["id"]).details["author_name"] == "Deploy Bot"
