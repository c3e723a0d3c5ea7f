"""GitLab's streaming payload rendered by the database, as SQL expressions over an
`audit_events` row aliased `e`: the same keys in the same order with the same values as
`AuditEvent.stream_body()`, strings escaped by the database's own JSON encoder
(PostgreSQL's `to_json`, SQLite's `json_object`). Both claims use them: the batch claim
(`store.batch_claims`) and the per-event claim (`store.deliveries.claim`), so that neither
builds an `AuditEvent` per row and encodes it again in Python.

What may differ from Python's encoding is only what JSON leaves free: PostgreSQL writes
`details` as jsonb prints it (`{"a": 1, "b": [1, 2]}`, spaces after separators, numbers as
numeric prints them: `1e-7` as `0.0000001`). tests/integration/store/test_batch_claims.py and
tests/integration/store/test_event_claims.py hold the two to the same JSON, key order
included, for events with unicode, control characters, nested details, NULLs and timestamps
with microseconds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

from auditwire.store.events import TARGET_ID_DIGITS


def _pg_text(column: str) -> str:
    """A text column as a JSON string, or null."""
    return f"COALESCE(to_json({column})::text, 'null')"


# GitLab's streaming payload, keys in `AuditEvent.stream_payload`'s order, as bytea. target_id
# is stored as text and streamed as a number when it is one (`store.events._target_id`).
PG_BODY = f"""convert_to(concat(
    '{{"id":', e.id, ',"author_id":', e.author_id, ',"entity_id":', e.entity_id,
    ',"entity_type":', to_json(e.entity_type), ',"details":', e.details,
    ',"ip_address":', {_pg_text("e.ip_address")}, ',"author_name":', to_json(e.author_name),
    ',"entity_path":', to_json(e.entity_path),
    ',"target_details":', {_pg_text("e.target_details")},
    ',"created_at":"', to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    '","target_type":', {_pg_text("e.target_type")},
    ',"target_id":', CASE
        WHEN e.target_id ~ '^-?[0-9]{{1,{TARGET_ID_DIGITS}}}$' THEN e.target_id::bigint::text
        ELSE {_pg_text("e.target_id")} END,
    ',"event_type":', to_json(e.event_type), '}}'), 'UTF8')"""

# SQLite stores timestamps as UTC text, `2024-01-31 12:00:00.123456` (`sqlite_time`); its
# date functions round fractions of a second, so they are cut off as text instead.
_SQLITE_DIGITS = (
    "(({0} GLOB '[0-9]*' OR {0} GLOB '-[0-9]*') AND NOT substr({0}, 2) GLOB '*[^0-9]*'"
    f" AND length(ltrim({{0}}, '-')) <= {TARGET_ID_DIGITS})"
)
_SQLITE_TARGET_ID = (
    f"CASE WHEN {_SQLITE_DIGITS.format('e.target_id')} "
    "THEN CAST(e.target_id AS INTEGER) ELSE e.target_id END"
)
# As text (the caller encodes it to bytes).
SQLITE_BODY = f"""json_object(
    'id', e.id, 'author_id', e.author_id, 'entity_id', e.entity_id,
    'entity_type', e.entity_type, 'details', json(e.details), 'ip_address', e.ip_address,
    'author_name', e.author_name, 'entity_path', e.entity_path,
    'target_details', e.target_details,
    'created_at', substr(e.created_at, 1, 10) || 'T' || substr(e.created_at, 12, 12) || 'Z',
    'target_type', e.target_type, 'target_id', {_SQLITE_TARGET_ID},
    'event_type', e.event_type)"""


@lru_cache(maxsize=4096)  # deliveries recorded in one transaction share their creation
def sqlite_moment(stored: str) -> datetime:
    """A timestamp as SQLite stores it (`sqlite_time`), as an aware UTC datetime."""
    return datetime.fromisoformat(stored).replace(tzinfo=UTC)
