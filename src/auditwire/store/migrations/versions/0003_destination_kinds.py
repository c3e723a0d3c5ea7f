"""destination kinds: category, config and secret_token; several namespace filters

Every existing destination becomes an http destination: its URL moves into `config.url` and
its verification token is renamed `secret_token` (the ciphertext is kept as it is). Headers,
filters, deliveries and ids are untouched. A destination may now have several namespace
filters, so the one-per-destination unique constraint becomes an index.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# streaming_destinations is changed in place with plain ALTER TABLE on both backends (SQLite
# 3.35+), never rebuilt: rebuilding a table on SQLite drops the old one, and with foreign keys
# on, that deletes every header, filter and delivery that references it (ON DELETE CASCADE).


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    execute = op.execute
    execute(
        "ALTER TABLE streaming_destinations ADD COLUMN category VARCHAR(16) DEFAULT 'http' NOT NULL"
    )
    execute("ALTER TABLE streaming_destinations RENAME COLUMN verification_token TO secret_token")
    if _postgres():
        execute("ALTER TABLE streaming_destinations ADD COLUMN config JSONB")
        execute(
            "UPDATE streaming_destinations SET config = jsonb_build_object('url', destination_url)"
        )
        execute("ALTER TABLE streaming_destinations ALTER COLUMN config SET NOT NULL")
    else:
        execute("ALTER TABLE streaming_destinations ADD COLUMN config JSON DEFAULT '{}' NOT NULL")
        execute("UPDATE streaming_destinations SET config = json_object('url', destination_url)")
    execute("ALTER TABLE streaming_destinations DROP COLUMN destination_url")

    # Nothing references namespace filters: rebuilding this table on SQLite loses nothing.
    with op.batch_alter_table("streaming_namespace_filters", schema=None) as batch_op:
        batch_op.drop_constraint("uq_streaming_namespace_filters_destination_id", type_="unique")
        batch_op.create_index(
            batch_op.f("ix_streaming_namespace_filters_destination_id"),
            ["destination_id"],
            unique=False,
        )


def downgrade() -> None:
    # Only http destinations and one namespace filter each fit the older shape.
    execute = op.execute
    execute("DELETE FROM streaming_destinations WHERE category <> 'http'")
    execute(
        "DELETE FROM streaming_namespace_filters WHERE id NOT IN "
        "(SELECT MIN(id) FROM streaming_namespace_filters GROUP BY destination_id)"
    )
    with op.batch_alter_table("streaming_namespace_filters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_streaming_namespace_filters_destination_id"))
        batch_op.create_unique_constraint(
            "uq_streaming_namespace_filters_destination_id", ["destination_id"]
        )
    if _postgres():
        execute("ALTER TABLE streaming_destinations ADD COLUMN destination_url VARCHAR(255)")
        execute("UPDATE streaming_destinations SET destination_url = config->>'url'")
        execute("ALTER TABLE streaming_destinations ALTER COLUMN destination_url SET NOT NULL")
    else:
        execute(
            "ALTER TABLE streaming_destinations "
            "ADD COLUMN destination_url VARCHAR(255) DEFAULT '' NOT NULL"
        )
        execute("UPDATE streaming_destinations SET destination_url = json_extract(config, '$.url')")
    execute("ALTER TABLE streaming_destinations RENAME COLUMN secret_token TO verification_token")
    execute("ALTER TABLE streaming_destinations DROP COLUMN config")
    execute("ALTER TABLE streaming_destinations DROP COLUMN category")
