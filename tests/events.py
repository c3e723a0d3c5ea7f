"""Recorded audit events built in memory, for tests of what a sink sends."""

from __future__ import annotations

from datetime import UTC, datetime

from auditwire.domain.events import AuditEvent, StreamedEvent, streamed

CREATED_AT = datetime(2025, 3, 14, 9, 26, 53, 589000, tzinfo=UTC)


def audit_event(
    event_id: int,
    *,
    entity_type: str = "Group",
    event_type: str = "update_approval_rules",
    created_at: datetime = CREATED_AT,
) -> AuditEvent:
    return AuditEvent(
        id=event_id,
        event_type=event_type,
        author_id=1,
        author_name="Administrator",
        entity_type=entity_type,
        entity_id=22,
        entity_path="gitlab-org",
        target_id=7,
        target_type="ApprovalProjectRule",
        target_details="All Members",
        ip_address="203.0.113.9",
        details={"custom_message": f"event {event_id}", "entity_path": "gitlab-org"},
        created_at=created_at,
        stream_only=False,
        root_group_id=22,
    )


def outgoing(*ids: int) -> list[StreamedEvent]:
    """A claimed batch: each event with its stream body, as the worker hands it to a sink."""
    return [streamed(event) for event in map(audit_event, ids)]
