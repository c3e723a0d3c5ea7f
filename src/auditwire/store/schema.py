"""The database schema: SQLAlchemy Core tables, the one description migrations must match."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite makes only INTEGER PRIMARY KEY an alias of the rowid, so ids are Integer there.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(JSONB(), "postgresql")
Timestamp = sa.DateTime(timezone=True)


def _id() -> sa.Column[int]:
    return sa.Column("id", Id, primary_key=True, autoincrement=True)


def _fk(
    name: str, target: str, nullable: bool = False, ondelete: str = "CASCADE"
) -> sa.Column[int]:
    return sa.Column(name, Id, sa.ForeignKey(target, ondelete=ondelete), nullable=nullable)


users = sa.Table(
    "users",
    metadata,
    _id(),
    sa.Column("username", sa.String(255), nullable=False, unique=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("email", sa.String(255), nullable=False, unique=True),
    sa.Column("is_admin", sa.Boolean, nullable=False, default=False),
    sa.Column("state", sa.String(16), nullable=False, default="active"),
    sa.Column("password_hash", sa.String(255), nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
)

personal_access_tokens = sa.Table(
    "personal_access_tokens",
    metadata,
    _id(),
    _fk("user_id", "users.id"),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("token_digest", sa.String(64), nullable=False, unique=True),
    sa.Column("scopes", sa.String(255), nullable=False),
    sa.Column("expires_at", sa.Date, nullable=True),
    sa.Column("revoked", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("last_used_at", Timestamp, nullable=True),
)

# Groups and subgroups. `full_path` is unique across groups and projects (checked on write).
namespaces = sa.Table(
    "namespaces",
    metadata,
    _id(),
    _fk("parent_id", "namespaces.id", nullable=True),
    sa.Column("path", sa.String(255), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("full_path", sa.String(2048), nullable=False, unique=True),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("plan", sa.String(16), nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Index(None, "parent_id"),
)

projects = sa.Table(
    "projects",
    metadata,
    _id(),
    _fk("namespace_id", "namespaces.id"),
    sa.Column("path", sa.String(255), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("full_path", sa.String(2048), nullable=False, unique=True),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Index(None, "namespace_id"),
)

# source_type is "Namespace" (a group) or "Project", as in GitLab's members table.
members = sa.Table(
    "members",
    metadata,
    _id(),
    sa.Column("source_type", sa.String(16), nullable=False),
    sa.Column("source_id", Id, nullable=False),
    _fk("user_id", "users.id"),
    sa.Column("access_level", sa.SmallInteger, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("expires_at", sa.Date, nullable=True),
    sa.UniqueConstraint("source_type", "source_id", "user_id"),
    sa.Index(None, "user_id"),
)

audit_events = sa.Table(
    "audit_events",
    metadata,
    _id(),
    sa.Column("event_type", sa.String(255), nullable=False),
    sa.Column("author_id", Id, nullable=False),
    sa.Column("author_name", sa.String(255), nullable=False),
    sa.Column("entity_type", sa.String(32), nullable=False),
    sa.Column("entity_id", Id, nullable=False),
    sa.Column("entity_path", sa.String(2048), nullable=False),
    sa.Column("target_id", sa.String(255), nullable=True),
    sa.Column("target_type", sa.String(255), nullable=True),
    sa.Column("target_details", sa.Text, nullable=True),
    sa.Column("ip_address", sa.String(64), nullable=True),
    sa.Column("details", Json, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("stream_only", sa.Boolean, nullable=False, default=False),
    sa.Column("root_group_id", Id, nullable=True),
    sa.Index(None, "entity_type", "entity_id", "id"),
    sa.Index(None, "created_at"),
    sa.Index(None, "root_group_id", "created_at"),
)

# Failed sign-ins per login, so that throttling holds across processes and restarts. The
# login is kept as a digest: people type passwords into the login field by mistake.
sign_in_failures = sa.Table(
    "sign_in_failures",
    metadata,
    sa.Column("login_digest", sa.String(64), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("window_started_at", Timestamp, nullable=False),
)

# A retried ingestion request with the same key returns the events of the first; one with
# another body (told apart by request_digest, a SHA-256 in hex) is refused.
idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    _id(),
    _fk("user_id", "users.id"),
    sa.Column("key", sa.String(255), nullable=False),
    sa.Column("event_ids", Json, nullable=False),
    sa.Column("request_digest", sa.String(64), nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.UniqueConstraint("user_id", "key"),
)

# Streaming destinations: a group's when group_id is set, the instance's when it is NULL.
# `category` is the kind (http, aws, gcp, ...) and `config` its settings without secrets (an
# http destination's headers live in streaming_headers: ids of their own, values encrypted).
# Secrets are stored encrypted (see auditwire.crypto): `secret_token` is an http destination's
# verification token, an S3 secret access key or a GCP private key.
streaming_destinations = sa.Table(
    "streaming_destinations",
    metadata,
    _id(),
    _fk("group_id", "namespaces.id", nullable=True),
    sa.Column("name", sa.String(72), nullable=False),
    sa.Column("category", sa.String(16), nullable=False, server_default="http"),
    sa.Column("config", Json, nullable=False),
    sa.Column("secret_token", sa.LargeBinary, nullable=False),
    sa.Column("signing_secret", sa.LargeBinary, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    # Delivery health, written by the workers: the circuit breaker's state and the last outcomes.
    sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("circuit_state", sa.String(16), nullable=False, server_default="closed"),
    sa.Column("circuit_open_until", Timestamp, nullable=True),
    sa.Column("last_success_at", Timestamp, nullable=True),
    sa.Column("last_failure_at", Timestamp, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Index(None, "group_id"),
)

# One row: the revision of the destinations' sending settings, incremented by every write of
# one (created, changed, its headers, deactivated, deleted; store/destinations.py
# `bump_revision`). The row's lock puts the increments in commit order, so a worker that
# loaded the destinations at revision n knows it has every change a claim at n has seen.
streaming_destination_revision = sa.Table(
    "streaming_destination_revision",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("revision", sa.BigInteger, nullable=False),
)

streaming_headers = sa.Table(
    "streaming_headers",
    metadata,
    _id(),
    _fk("destination_id", "streaming_destinations.id"),
    sa.Column("key", sa.String(255), nullable=False),
    sa.Column("value", sa.LargeBinary, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.UniqueConstraint("destination_id", "key"),
)

streaming_event_type_filters = sa.Table(
    "streaming_event_type_filters",
    metadata,
    _id(),
    _fk("destination_id", "streaming_destinations.id"),
    sa.Column("audit_event_type", sa.String(255), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.UniqueConstraint("destination_id", "audit_event_type"),
)

# At most five per destination (one through the legacy HTTP API), each a group (matches it
# and everything below) or a project; a namespace once per destination (checked on write).
streaming_namespace_filters = sa.Table(
    "streaming_namespace_filters",
    metadata,
    _id(),
    _fk("destination_id", "streaming_destinations.id"),
    _fk("group_id", "namespaces.id", nullable=True),
    _fk("project_id", "projects.id", nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Index(None, "destination_id"),
)

# The durable outbox: one row per (event, destination) until it is delivered (then deleted).
# state is "pending" or "failed" (older than the maximum age, kept for inspection). A claimed
# row is leased: lease_expires_at holds the lease's end, and the row is not due until then.
# The lease changes no indexed column: on PostgreSQL a HOT update, for which each page keeps
# room (fill factor 50; migration 0006).
deliveries = sa.Table(
    "deliveries",
    metadata,
    _id(),
    _fk("event_id", "audit_events.id"),
    _fk("destination_id", "streaming_destinations.id"),
    sa.Column("state", sa.String(16), nullable=False, default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", Timestamp, nullable=False),
    sa.Column("lease_expires_at", Timestamp, nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("last_error", sa.Text, nullable=True),
    # Claims walk one destination's due deliveries in time order (see store/deliveries.py).
    sa.Index(None, "destination_id", "state", "next_attempt_at"),
    postgresql_with={"fillfactor": 50},
)

# The delivery log: one row per attempt, written with the attempt's outcome, kept for
# AUDITWIRE_DELIVERY_LOG_DAYS and pruned in the background. outcome is "delivered", "retry",
# "failed" or "gone"; status_code is NULL when no response came (error says why).
delivery_attempts = sa.Table(
    "delivery_attempts",
    metadata,
    _id(),
    _fk("destination_id", "streaming_destinations.id"),
    sa.Column("event_id", Id, nullable=False),
    sa.Column("event_type", sa.String(255), nullable=False),
    sa.Column("attempted_at", Timestamp, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("duration_ms", sa.Integer, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("outcome", sa.String(16), nullable=False),
    # A batch's attempt: how many events it carried, and its last (event_id is its first).
    sa.Column("event_count", sa.Integer, nullable=False, server_default="1"),
    sa.Column("last_event_id", Id, nullable=True),
    # A destination's log is read newest first; pruning walks attempted_at.
    sa.Index(None, "destination_id", "id"),
    sa.Index(None, "attempted_at"),
)
