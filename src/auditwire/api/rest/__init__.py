"""GitLab's REST v4 API, the subset auditwire serves."""

from fastapi import APIRouter

from auditwire.api.rest import audit_events, groups, members, namespaces, projects, users
from auditwire.api.rest.paths import RestPaths

router = APIRouter()
# Ingestion is the hot path: its route sits first and at the top level, not in a sub-router.
router.add_route(
    audit_events.INGEST_PATH, audit_events.ingest_events, methods=["POST"], include_in_schema=False
)
for module in (audit_events, users, groups, projects, members, namespaces):
    router.include_router(module.router)

__all__ = ["RestPaths", "router"]
